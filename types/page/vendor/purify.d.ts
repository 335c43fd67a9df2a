// The page imports DOMPurify from the path the app serves it at (`assets/vendor/purify.js`, the package's ES
// build); this gives that path the package's own types. See tsconfig.static.json.

export * from 'dompurify';
export { default } from 'dompurify';
