import { isAbsolute, relative, sep } from 'node:path';

/** Whether `path` is `folder` or lies under it (lexically: resolve symbolic links first where they matter). */
export function isInsideFolder(folder: string, path: string): boolean {
  const rest = relative(folder, path);
  return rest === '' || (rest !== '..' && !rest.startsWith(`..${sep}`) && !isAbsolute(rest));
}
