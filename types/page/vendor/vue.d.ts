// The page imports Vue from the path the app serves it at (`assets/vendor/vue.js`, a build of the `vue`
// package); this gives that path the package's own types. See tsconfig.static.json.
export * from 'vue';
