/** A file system error as a person says it, without the syscall and path Node adds. */
export function fileErrorInWords(error: unknown): string {
  const words: Record<string, string> = {
    ENOENT: "there is no such file (check the path)",
    EACCES: "permission denied",
    EISDIR: "it is a directory, not a file",
    ENOTDIR: "a part of the path is not a directory",
    EEXIST: "it exists already",
  };
  const code = (error as NodeJS.ErrnoException).code;
  return (code && words[code]) ?? (error as Error).message;
}
