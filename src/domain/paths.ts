/**
 * Normalizes an absolute path as Go's `path.Clean` does (SFTPGo cleans every home and
 * permission directory with it): no `.`, `..`, doubled or trailing slashes. So `/srv/x/` and
 * `/srv/x` are the same directory.
 *
 * @example cleanPath('/in//sub/../x/') // '/in/x'
 */
export function cleanPath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}
