/**
 * Secure unique default hostnames (`<name>-<hash>.<region>.azurewebsites.net`) make any URL built from the Function
 * App's name wrong: the upstream URL, SignalR's CORS origin and the sign-in redirect must use the site's real host,
 * its `defaultHostName` (docs/deploy.md, "Secure unique default hostnames"). Each check returns problems, empty
 * when it holds.
 */
import { type DeployedResource, type Evaluated, UNKNOWN } from './bicep-eval.js';

/** Every string inside `value`, with where it sits. */
function strings(
  value: Evaluated | undefined,
  where: string,
  out: [string, string][] = [],
): [string, string][] {
  if (typeof value === 'string') out.push([where, value]);
  else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) strings(item, `${where}[${index}]`, out);
  } else if (value !== null && value !== undefined && value !== UNKNOWN && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) strings(item, `${where}.${key}`, out);
  }
  return out;
}

/**
 * No string a deployment writes (resource bodies, main.bicep's outputs) is a host built from the app's name (`appName`
 * as the evaluator renders it, followed by a dot) or names the default `azurewebsites.net` domain itself.
 */
export function checkNoNameBuiltUrls(
  resources: readonly DeployedResource[],
  outputs: Readonly<Record<string, Evaluated>>,
  appName: string,
): string[] {
  const found = [
    ...resources.flatMap((r) => strings(r.body, `${r.file}:${r.resource.line} (${r.resource.type})`)),
    ...Object.entries(outputs).flatMap(([name, value]) => strings(value, `output ${name}`)),
  ];
  return found
    .filter(
      ([, text]) =>
        // `<name>.` is the name used as a host's first label; `<name>-…` (a container, a message) is not a host.
        /azurewebsites\.net/i.test(text) || text.includes(`${appName}.`),
    )
    .map(
      ([where, text]) =>
        `${where}: ${text} is built from the app's name; use the site's defaultHostName (secure unique default hostnames add a hash and the region).`,
    );
}

/** Lines of Bicep source, comments left out, that name the default `azurewebsites.net` domain. */
export function checkNoDefaultDomain(sources: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, text] of sources) {
    text.split('\n').forEach((line, index) => {
      // A comment starts a line or follows a blank; `https://` does neither.
      if (/azurewebsites\.net/i.test(line.replace(/(^|\s)\/\/.*$/, ''))) {
        problems.push(
          `${file}:${index + 1}: a host under azurewebsites.net written into the template; take the site's defaultHostName.`,
        );
      }
    });
  }
  return problems;
}
