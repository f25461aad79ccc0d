import { commandLine, shellQuote } from "../shell-quote.js";
import { decodeHostName, type RefusedName } from "./host-names.js";

/**
 * Changing a file's mode or owner as root must act on the file chaos looked at, never on one an
 * attacker swapped in since (the file replaced by a symlink, a parent directory replaced by a
 * symlink to elsewhere). The POSIX shell cannot do that: `chmod` follows links and works on
 * names. Perl can (and is on essentially every Linux host; Debian marks it essential): open
 * the name with O_PATH | O_NOFOLLOW, which neither follows a final symlink nor opens the file
 * for I/O (no side effect on a FIFO or device), compare device and inode with what was
 * journaled, then chmod and chown that very descriptor through /proc/self/fd.
 */

/** A file as chaos saw it, identified beyond its name. */
export interface FileIdentity {
  /** Resolved, symlink-free path. */
  path: string;
  /** Permission bits as `stat -c %a` prints them ("644", "4755", "0"). */
  mode: string;
  uid: number;
  gid: number;
  /** `st_dev` and `st_ino`, as decimal text (inode numbers may exceed 2^53). */
  device: string;
  inode: string;
  type: "file" | "directory" | "other";
}

export type StatResult =
  | { status: "ok"; file: FileIdentity }
  | { status: "missing"; given: string }
  | { status: "refused"; name: RefusedName };

/** Perl: resolves each argument and prints `ok<TAB>hex(path)<TAB>mode<TAB>uid<TAB>gid<TAB>dev<TAB>ino<TAB>type` or `missing<TAB>hex(arg)`. */
const statProgram = `use strict; use Cwd qw(realpath); use Fcntl qw(:mode);
for my $given (@ARGV) {
  my $real = realpath($given);
  my @stat = defined $real ? lstat($real) : ();
  if (!@stat) { print "missing\\t", unpack("H*", $given), "\\n"; next; }
  my $type = S_ISREG($stat[2]) ? "file" : S_ISDIR($stat[2]) ? "directory" : "other";
  printf "ok\\t%s\\t%o\\t%d\\t%d\\t%s\\t%s\\t%s\\n", unpack("H*", $real), $stat[2] & 07777, $stat[4], $stat[5], $stat[0], $stat[1], $type;
}`;

/**
 * Perl: `PATH_HEX DEVICE INODE FROM_MODE TO_MODE UID GID`. Prints one word: `changed` (it had
 * FROM_MODE and now has TO_MODE and owner UID:GID), `already` (it has TO_MODE), `other MODE`,
 * `missing`, or `replaced` (no longer the journaled file, or a symlink now).
 */
const changeModeProgram = `use strict; use Fcntl qw(:DEFAULT :mode);
my ($hex, $device, $inode, $from, $to, $uid, $gid) = @ARGV;
my $path = pack("H*", $hex);
my $handle;
# 010000000 is O_PATH on Linux; older Perls' Fcntl does not export it.
unless (sysopen($handle, $path, 010000000 | O_NOFOLLOW)) { print $!{ENOENT} || $!{ENOTDIR} ? "missing\\n" : "unreadable $!\\n"; exit 0; }
my @stat = stat($handle);
if (!@stat || S_ISLNK($stat[2]) || "$stat[0]" ne $device || "$stat[1]" ne $inode) { print "replaced\\n"; exit 0; }
my $mode = sprintf("%o", $stat[2] & 07777);
if ($mode eq $to) { print "already\\n"; exit 0; }
if ($mode ne $from) { print "other $mode\\n"; exit 0; }
my $descriptor = "/proc/self/fd/" . fileno($handle);
# chown first: it clears setuid and setgid bits, which the chmod then sets again.
if ($stat[4] != $uid || $stat[5] != $gid) { chown($uid, $gid, $descriptor) or do { print "failed to chown: $!\\n"; exit 1; }; }
chmod(oct($to), $descriptor) or do { print "failed to chmod: $!\\n"; exit 1; };
print "changed\\n";`;

/** Shell command printing one stat line per path (see statProgram). */
export function statFilesCommand(paths: readonly string[]): string {
  return `perl -e ${shellQuote(statProgram)} -- ${commandLine(paths)}`;
}

/** Parses statFilesCommand's output strictly: a line that does not parse is an error, never skipped. */
export function parseFileStats(output: string): StatResult[] {
  return output
    .split("\n")
    .filter((line) => line !== "")
    .map((line): StatResult => {
      const fields = line.split("\t");
      if (fields[0] === "missing" && fields.length === 2) {
        const given = decodeHostName(fields[1] ?? "");
        return given.ok ? { status: "missing", given: given.name } : { status: "refused", name: given };
      }
      const [status, hexPath = "", mode = "", uid = "", gid = "", device = "", inode = "", type = ""] = fields;
      if (
        status !== "ok" ||
        fields.length !== 8 ||
        !/^[0-7]{1,4}$/.test(mode) ||
        ![uid, gid, device, inode].every((number) => /^\d+$/.test(number)) ||
        !["file", "directory", "other"].includes(type)
      )
        throw new Error(`unexpected output while reading file modes: ${JSON.stringify(line)}`);
      const path = decodeHostName(hexPath);
      if (!path.ok) return { status: "refused", name: path };
      return {
        status: "ok",
        file: { path: path.name, mode, uid: Number(uid), gid: Number(gid), device, inode, type: type as FileIdentity["type"] },
      };
    });
}

/** Shell command that changes a file's mode from `from` to `to` (and its owner to uid:gid) only while it is still `file`; prints one word (see changeModeProgram). */
export function changeModeCommand(
  file: Pick<FileIdentity, "path" | "device" | "inode">,
  from: string,
  to: string,
  owner: { uid: number; gid: number },
): string {
  const hex = Buffer.from(file.path, "utf8").toString("hex");
  return `perl -e ${shellQuote(changeModeProgram)} -- ${commandLine([hex, file.device, file.inode, from, to, owner.uid, owner.gid])}`;
}
