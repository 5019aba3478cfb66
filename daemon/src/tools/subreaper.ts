// Without the sandbox (no pid namespace), a command can leave processes behind that neither its
// process group nor its environment marker finds: `env -u ERRAND_CALL setsid …`, a double fork.
// On Linux the command runs under a small keeper (perl, part of every Debian-like base system) that
// makes itself a child subreaper: whatever the command leaves behind is re-parented to the keeper,
// not to init, so the keeper can find all of it by parent chain. When the command exits, when the
// keeper gets SIGTERM (timeout, cancel) or when the daemon dies (parent-death signal), the keeper
// kills every descendant, then exits with the command's status.
import fs from 'node:fs';
import path from 'node:path';

/** prctl's system call number by architecture. */
const PRCTL_NR: Partial<Record<NodeJS.Architecture, number>> = {
  x64: 157,
  arm64: 167,
  riscv64: 167,
  loong64: 167,
  ia32: 172,
  arm: 172,
};

const KEEPER = String.raw`
use strict;
use POSIX ();
my $nr = shift @ARGV;
syscall($nr, 36, 1, 0, 0, 0);   # PR_SET_CHILD_SUBREAPER
syscall($nr, 1, 15, 0, 0, 0);   # PR_SET_PDEATHSIG = SIGTERM: the daemon's death ends it all
my $main = fork();
if (!defined $main) { print STDERR "errand: cannot start: $!\n"; POSIX::_exit(126); }
if ($main == 0) {
  exec { $ARGV[0] } @ARGV;
  print STDERR "errand: cannot run $ARGV[0]: $!\n";
  POSIX::_exit(127);
}
sub descendants {
  my %ppid;
  opendir(my $d, "/proc") or return ();
  for my $p (grep { /^\d+$/ } readdir $d) {
    open(my $f, "<", "/proc/$p/stat") or next;
    my $s = <$f>;
    $ppid{$p} = $1 if defined $s && $s =~ /\)\s+\S+\s+(\d+)/;
  }
  my %mine = ($$ => 1);
  my @out;
  for (my $grew = 1; $grew; ) {
    $grew = 0;
    for my $p (keys %ppid) {
      next if $mine{$p} || !$mine{$ppid{$p}};
      $mine{$p} = 1; push @out, $p; $grew = 1;
    }
  }
  return @out;
}
sub kill_all {
  for (1 .. 100) {
    my @d = descendants();
    last unless @d;
    kill 'KILL', @d;
    1 while waitpid(-1, POSIX::WNOHANG()) > 0;
  }
}
$SIG{TERM} = $SIG{INT} = $SIG{HUP} = sub { kill_all(); POSIX::_exit(143); };
my $status;
while (1) {
  my $w = waitpid(-1, 0);
  last if $w == -1;
  if ($w == $main) { $status = $?; last; }
}
kill_all();
1 while waitpid(-1, POSIX::WNOHANG()) > 0;
POSIX::_exit(1) unless defined $status;
my $sig = $status & 127;
if ($sig) { $SIG{TERM} = $SIG{INT} = $SIG{HUP} = 'DEFAULT'; kill $sig, $$; POSIX::_exit(128 + $sig); }
POSIX::_exit($status >> 8);
`;

let perl: string | null | undefined;

function findPerl(): string | null {
  if (perl !== undefined) return perl;
  perl = null;
  for (const dir of ['/usr/bin', '/bin', ...(process.env.PATH ?? '').split(path.delimiter)]) {
    const p = path.join(dir, 'perl');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      perl = p;
      break;
    } catch {
      /* not here */
    }
  }
  return perl;
}

/** argv run under the keeper, or undefined where it cannot run (not Linux, no perl). */
export function underKeeper(argv: string[]): string[] | undefined {
  const nr = PRCTL_NR[process.arch];
  if (process.platform !== 'linux' || nr === undefined) return undefined;
  const p = findPerl();
  return p ? [p, '-e', KEEPER, String(nr), ...argv] : undefined;
}
