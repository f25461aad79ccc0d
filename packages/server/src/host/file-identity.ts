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
 *
 * A host without perl gets a shell fallback that is only safe where nobody but root can
 * change the names on the way: every directory from / to the file's parent must be root's
 * (or chaos's user's) and writable by no one else, except a sticky directory whose entry on
 * the way is root's too (no one else may rename or remove it). Then no one else can swap the
 * file or a parent for a symlink between the check and the chmod by name, and the fallback
 * still compares device, inode and type before acting. Paths that fail the rule are refused
 * there (`unsafe`), and an undo that finds one so now reports a conflict.
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

/** Why a path is unsafe for the shell fallback: a directory on its way that someone else can change. */
export interface UnsafePath {
  path: string;
  directory: string;
  /** `owner`: the directory belongs to another user; `writable`: group or others may write it (or it could not be read); `sticky`: sticky, but the entry on the way is another user's. */
  reason: "owner" | "writable" | "sticky";
  uid: number;
  mode: string;
}

/** A named path that leads through a symlink someone other than root made or can replace: they chose the file. */
export interface UntrustedLink {
  given: string;
  link: string;
  /** `link`: the symlink belongs to `uid`; otherwise why `directory`, on the way to the link, is unsafe (as for UnsafePath). */
  reason: "link" | UnsafePath["reason"] | "resolved";
  directory: string;
  uid: number;
  mode: string;
}

export type StatResult =
  | { status: "ok"; file: FileIdentity }
  | { status: "missing"; given: string }
  | { status: "refused"; name: RefusedName }
  | ({ status: "unsafe" } & UnsafePath)
  | ({ status: "untrusted" } & UntrustedLink);

/**
 * Shell functions of the fallback. `chaos_path_safety PATH` prints nothing when only root (or
 * chaos's user) can change the names on the way to PATH (resolved, absolute), otherwise
 * `REASON<TAB>hex(directory)<TAB>uid<TAB>mode` for the first directory that fails. The file's
 * own owner does not matter: a file cannot rename itself, only its directory's writers can.
 */
const shellFallbackFunctions = `chaos_hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \\n'; }
chaos_trusted_uid() { [ "$1" = 0 ] || [ "$1" = "$(id -u)" ]; }
chaos_path_safety() {
  chaos_dir=/
  chaos_rest=\${1#/}
  while [ -n "$chaos_rest" ]; do
    chaos_owner_mode=$(stat -c '%u %a' -- "$chaos_dir") || { printf 'unreadable\\t%s\\t0\\t0\\n' "$(chaos_hex "$chaos_dir")"; return 0; }
    chaos_uid=\${chaos_owner_mode% *}; chaos_mode=\${chaos_owner_mode#* }
    chaos_next=\${chaos_dir%/}/\${chaos_rest%%/*}
    chaos_reason=
    if ! chaos_trusted_uid "$chaos_uid"; then chaos_reason=owner
    elif [ $(( 0$chaos_mode & 022 )) -ne 0 ]; then
      if [ $(( 0$chaos_mode & 01000 )) -eq 0 ]; then chaos_reason=writable
      elif ! chaos_trusted_uid "$(stat -c '%u' -- "$chaos_next" 2>/dev/null)"; then chaos_reason=sticky; fi
    fi
    [ -n "$chaos_reason" ] && { printf '%s\\t%s\\t%s\\t%s\\n' "$chaos_reason" "$(chaos_hex "$chaos_dir")" "$chaos_uid" "$chaos_mode"; return 0; }
    chaos_dir=$chaos_next
    case "$chaos_rest" in */*) chaos_rest=\${chaos_rest#*/} ;; *) chaos_rest= ;; esac
  done
}
chaos_type_word() { case "$1" in "regular file"|"regular empty file") echo file ;; directory) echo directory ;; *) echo other ;; esac; }`;

/** Shell: the fallback of statProgram (same lines), with `unsafe<TAB>hex(path)<TAB>REASON<TAB>hex(dir)<TAB>uid<TAB>mode` for a path it refuses. */
const statShell = `${shellFallbackFunctions}
for chaos_given in "$@"; do
  chaos_real=$(readlink -e -- "$chaos_given" 2>/dev/null && echo .) || chaos_real=$(realpath -- "$chaos_given" 2>/dev/null && echo .) || chaos_real=
  chaos_real=\${chaos_real%?.}
  # Without perl, links on the way are not checked one by one: a named path must be the resolved one.
  if [ -n "$chaos_real" ] && [ "$chaos_real" != "$chaos_given" ]; then
    printf 'untrusted\\t%s\\t%s\\tresolved\\t%s\\t0\\t0\\n' "$(chaos_hex "$chaos_given")" "$(chaos_hex "$chaos_real")" "$(chaos_hex "$chaos_real")"; continue
  fi
  if [ -z "$chaos_real" ] || ! chaos_stat=$(stat -c '%a %u %g %d %i %F' -- "$chaos_real" 2>/dev/null); then
    printf 'missing\\t%s\\n' "$(chaos_hex "$chaos_given")"; continue
  fi
  chaos_unsafe=$(chaos_path_safety "$chaos_real")
  if [ -n "$chaos_unsafe" ]; then printf 'unsafe\\t%s\\t%s\\n' "$(chaos_hex "$chaos_real")" "$chaos_unsafe"; continue; fi
  read -r chaos_mode chaos_uid chaos_gid chaos_device chaos_inode chaos_type <<CHAOS_END
$chaos_stat
CHAOS_END
  printf 'ok\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$(chaos_hex "$chaos_real")" "$chaos_mode" "$chaos_uid" "$chaos_gid" "$chaos_device" "$chaos_inode" "$(chaos_type_word "$chaos_type")"
done`;

/**
 * Shell: the fallback of changeModeProgram, by name, printing the same words, and `unsafe` when
 * a directory on the way can now be changed by someone else (nothing is done then). Between
 * these checks and the chmod no one but root can swap a name on the way: the rule above buys that.
 */
const changeModeShell = `${shellFallbackFunctions}
chaos_path=$1; chaos_want_device=$2; chaos_want_inode=$3; chaos_from=$4; chaos_to=$5; chaos_owner=$6:$7
chaos_stat=$(stat -c '%d %i %a %u:%g %F' -- "$chaos_path" 2>/dev/null) || {
  if [ -e "$chaos_path" ] || [ -L "$chaos_path" ]; then echo unreadable; else echo missing; fi; exit 0; }
read -r chaos_device chaos_inode chaos_mode chaos_ids chaos_type <<CHAOS_END
$chaos_stat
CHAOS_END
if [ "$chaos_type" = "symbolic link" ] || [ "$chaos_device" != "$chaos_want_device" ] || [ "$chaos_inode" != "$chaos_want_inode" ]; then echo replaced; exit 0; fi
[ -n "$(chaos_path_safety "$chaos_path")" ] && { echo unsafe; exit 0; }
[ "$chaos_mode" = "$chaos_to" ] && { echo already; exit 0; }
[ "$chaos_mode" = "$chaos_from" ] || { echo "other $chaos_mode"; exit 0; }
# chown first: it clears setuid and setgid bits, which the chmod then sets again. -h: never through a symlink.
if [ "$chaos_ids" != "$chaos_owner" ]; then chown -h -- "$chaos_owner" "$chaos_path" || { echo "failed to chown"; exit 1; }; fi
chmod -- "$chaos_to" "$chaos_path" || { echo "failed to chmod"; exit 1; }
echo changed`;

/**
 * Perl: resolves each argument as the kernel would, one component at a time, and prints
 * `ok<TAB>hex(path)<TAB>mode<TAB>uid<TAB>gid<TAB>dev<TAB>ino<TAB>type` or `missing<TAB>hex(arg)`.
 * A symlink on the way decides which file chaos changes, so it must be one no one but root (or
 * chaos's user) made or can replace: its owner, and every directory from / to it (the sticky
 * rule of the shell fallback included). Otherwise it prints
 * `untrusted<TAB>hex(arg)<TAB>hex(link)<TAB>REASON<TAB>hex(dir)<TAB>uid<TAB>mode` (REASON `link`:
 * the link belongs to uid; otherwise as `unsafe` lines, for that directory).
 */
const statProgram = `use strict; use Fcntl qw(:mode);
sub trusted { return $_[0] == 0 || $_[0] == $>; }
# The first directory on the way to PATH (whose directories are symlink-free) that someone else can change, or nothing.
sub unsafe_on_way {
  my @parts = grep { length } split m{/}, $_[0];
  my $dir = "/";
  for my $part (@parts) {
    my $next = ($dir eq "/" ? "" : $dir) . "/" . $part;
    my @stat = lstat($dir) or return ("unreadable", $dir, 0, 0);
    my $mode = $stat[2] & 07777;
    return ("owner", $dir, $stat[4], $mode) unless trusted($stat[4]);
    if ($mode & 022) {
      return ("writable", $dir, $stat[4], $mode) unless $mode & 01000;
      my @entry = lstat($next);
      return ("sticky", $dir, $stat[4], $mode) unless @entry && trusted($entry[4]);
    }
    $dir = $next;
  }
  return ();
}
for my $given (@ARGV) {
  my @todo = split m{/}, $given;
  my ($current, $hops, $real, @why) = ("", 0, undef);
  while (1) {
    if (!@todo) { $real = $current eq "" ? "/" : $current; last; }
    my $part = shift @todo;
    next if $part eq "" || $part eq ".";
    if ($part eq "..") { $current =~ s{/[^/]*\\z}{}; next; }
    my $next = "$current/$part";
    my @stat = lstat($next) or last;
    if (S_ISLNK($stat[2])) {
      last if ++$hops > 40;
      @why = trusted($stat[4]) ? unsafe_on_way($next) : ("link", $next, $stat[4], 0);
      if (@why) { printf "untrusted\\t%s\\t%s\\t%s\\t%s\\t%d\\t%o\\n", unpack("H*", $given), unpack("H*", $next), $why[0], unpack("H*", $why[1]), $why[2], $why[3]; last; }
      my $target = readlink($next);
      last unless defined $target;
      unshift @todo, split m{/}, $target;
      $current = "" if $target =~ m{\\A/};
      next;
    }
    last if @todo && !S_ISDIR($stat[2]);
    $current = $next;
  }
  next if @why;
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

/** Runs the perl program where perl is found, the shell fallback otherwise (decided on the host, each time it runs). */
function perlOrShell(
  perlProgram: string,
  perlArguments: readonly (string | number)[],
  shell: string,
  shellArguments: readonly (string | number)[],
) {
  return `if command -v perl >/dev/null 2>&1; then perl -e ${shellQuote(perlProgram)} -- ${commandLine(perlArguments.map(String))}
else sh -c ${shellQuote(shell)} chaos-fallback ${commandLine(shellArguments.map(String))}; fi`;
}

/** A path without doubled slashes, `/./` or a trailing slash: the same file, spelt as resolution prints it (`..` is kept: it means the parent of what a link points to). */
export function tidyPath(path: string): string {
  const tidy = path.replace(/\/{2,}/g, "/").replace(/(\/\.)+(\/|$)/g, "/");
  return tidy.length > 1 ? tidy.replace(/\/$/, "") : tidy;
}

/** Shell command printing one stat line per path (see statProgram and statShell). */
export function statFilesCommand(paths: readonly string[]): string {
  const tidy = paths.map(tidyPath);
  return perlOrShell(statProgram, tidy, statShell, tidy);
}

/** Parses statFilesCommand's output strictly: a line that does not parse is an error, never skipped. */
export function parseFileStats(output: string): StatResult[] {
  return output
    .split("\n")
    .filter((line) => line !== "")
    .map((line): StatResult => {
      const fields = line.split("\t");
      if (fields[0] === "unsafe") return parseUnsafe(line, fields);
      if (fields[0] === "untrusted") return parseUntrusted(line, fields);
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

function parseUnsafe(line: string, fields: string[]): StatResult {
  const [, hexPath = "", reason = "", hexDirectory = "", uid = "", mode = ""] = fields;
  if (
    fields.length !== 6 ||
    !["owner", "writable", "sticky", "unreadable"].includes(reason) ||
    !/^\d+$/.test(uid) ||
    !/^[0-7]{1,4}$/.test(mode)
  )
    throw new Error(`unexpected output while reading file modes: ${JSON.stringify(line)}`);
  const [path, directory] = [decodeHostName(hexPath), decodeHostName(hexDirectory)];
  if (!path.ok) return { status: "refused", name: path };
  if (!directory.ok) return { status: "refused", name: directory };
  // A directory chaos cannot read counts as one someone else may change: nothing proves otherwise.
  const why = reason === "unreadable" ? "writable" : (reason as UnsafePath["reason"]);
  return { status: "unsafe", path: path.name, directory: directory.name, reason: why, uid: Number(uid), mode };
}

function parseUntrusted(line: string, fields: string[]): StatResult {
  const [, hexGiven = "", hexLink = "", reason = "", hexDirectory = "", uid = "", mode = ""] = fields;
  if (
    fields.length !== 7 ||
    !["link", "owner", "writable", "sticky", "unreadable", "resolved"].includes(reason) ||
    !/^\d+$/.test(uid) ||
    !/^[0-7]{1,4}$/.test(mode)
  )
    throw new Error(`unexpected output while reading file modes: ${JSON.stringify(line)}`);
  const [given, link, directory] = [decodeHostName(hexGiven), decodeHostName(hexLink), decodeHostName(hexDirectory)];
  if (!given.ok) return { status: "refused", name: given };
  if (!link.ok) return { status: "refused", name: link };
  if (!directory.ok) return { status: "refused", name: directory };
  const why = reason === "unreadable" ? "writable" : (reason as UntrustedLink["reason"]);
  return { status: "untrusted", given: given.name, link: link.name, reason: why, directory: directory.name, uid: Number(uid), mode };
}

/** Says why a named path that leads through a symlink is refused, and what to do. */
export function describeUntrustedLink(host: string, untrusted: UntrustedLink): string {
  if (untrusted.reason === "resolved")
    return `${host}: ${untrusted.given} leads through a symlink to ${untrusted.link}, and ${host} has no perl to check who made the links on the way; name ${untrusted.link} itself if that is the file meant`;
  const why =
    untrusted.reason === "link"
      ? `belongs to uid ${untrusted.uid}`
      : `lies in the directory ${untrusted.directory}, which ${
          {
            owner: `belongs to uid ${untrusted.uid}`,
            writable: `is writable by group or others (mode ${untrusted.mode}, owner uid ${untrusted.uid})`,
            sticky: `is writable by others (mode ${untrusted.mode}) and an entry on the way belongs to another user`,
          }[untrusted.reason]
        }`;
  return `${host}: ${untrusted.given} leads through the symlink ${untrusted.link}, which ${why}: another user chose or can change which file that is. Refusing it; name the file itself if it is the one meant`;
}

/** Says why a path is refused where perl is missing: which directory, why, and what to do. */
export function describeUnsafePath(host: string, unsafe: UnsafePath): string {
  const why = {
    owner: `belongs to uid ${unsafe.uid}, who can change its entries`,
    writable: `is writable by group or others (mode ${unsafe.mode}, owner uid ${unsafe.uid})`,
    sticky: `is writable by others (mode ${unsafe.mode}) and the entry on the way belongs to another user, who may rename it despite the sticky bit`,
  }[unsafe.reason];
  return `${host} has no perl, so chaos can change modes there only by name, and ${unsafe.path} is refused: the directory ${unsafe.directory} on its way ${why}, so another user could swap the file or a parent for a symlink. Install perl on ${host}, or name paths whose directories only root can write`;
}

/** Shell command that changes a file's mode from `from` to `to` (and its owner to uid:gid) only while it is still `file`; prints one word (see changeModeProgram). */
export function changeModeCommand(
  file: Pick<FileIdentity, "path" | "device" | "inode">,
  from: string,
  to: string,
  owner: { uid: number; gid: number },
): string {
  const hex = Buffer.from(file.path, "utf8").toString("hex");
  const rest = [file.device, file.inode, from, to, owner.uid, owner.gid];
  return perlOrShell(changeModeProgram, [hex, ...rest], changeModeShell, [file.path, ...rest]);
}
