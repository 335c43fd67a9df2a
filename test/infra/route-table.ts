/**
 * Reads a function's route from `src/app/routes.ts` with the TypeScript compiler API instead of importing
 * it: importing would load every handler and its dependencies, while the contract only needs one string.
 */
import ts from 'typescript';

/**
 * The `route` of entry `name` in the `ROUTES` object literal exported by `source` (the text of routes.ts).
 * Throws, naming what it looked for, when the table is not an object literal with a string `route`.
 */
export function readRoute(source: string, name: string, file = 'src/app/routes.ts'): string {
  const route = readRouteEntry(source, name, file).route;
  if (route === undefined) throw new Error(`${file}: ROUTES.${name}.route is not a string literal`);
  return route;
}

/** The string-literal properties (name, route, authLevel, ...) of entry `name` of `ROUTES`. */
export function readRouteEntry(
  source: string,
  name: string,
  file = 'src/app/routes.ts',
): Record<string, string> {
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  let table: ts.ObjectLiteralExpression | undefined;
  const visit = (node: ts.Node): void => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.name.text === 'ROUTES' &&
      node.initializer
    ) {
      let initializer: ts.Expression = node.initializer;
      // `{ ... } satisfies Record<...>` / `{ ... } as const`
      while (ts.isSatisfiesExpression(initializer) || ts.isAsExpression(initializer))
        initializer = initializer.expression;
      if (ts.isObjectLiteralExpression(initializer)) table = initializer;
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  if (!table) throw new Error(`${file}: no \`ROUTES = { ... }\` object literal`);
  const entry = propertyValue(table, name);
  if (!entry || !ts.isObjectLiteralExpression(entry))
    throw new Error(`${file}: ROUTES.${name} is not an object literal`);
  const strings: Record<string, string> = {};
  for (const property of entry.properties) {
    if (ts.isPropertyAssignment(property) && ts.isStringLiteralLike(property.initializer)) {
      strings[property.name.getText()] = property.initializer.text;
    }
  }
  return strings;
}

function propertyValue(object: ts.ObjectLiteralExpression, key: string): ts.Expression | undefined {
  for (const property of object.properties) {
    if (ts.isPropertyAssignment(property) && property.name.getText() === key) return property.initializer;
  }
  return undefined;
}
