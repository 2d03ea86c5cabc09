#!/usr/bin/env bash
# The README's "Troubleshooting" section stays true to the code:
# - every message it quotes is one vfhook or vfctl prints: a list item that begins with a code
#   span quotes messages (each code span of that line); `…` stands for what the program fills
#   in (names, addresses, numbers), so each piece between two `…` must occur in the sources'
#   string literals (adjacent and `+`-joined literals count as one, white space runs as one
#   space). A list item that begins with "libvirt: " quotes libvirt's own message, which must
#   occur in docs/design.md.
# - every vfctl command it names (a code span, a `…` inside a quoted message, or a line of a
#   fenced block, that begins with "vfctl" or "sudo vfctl") is a command vfctl has, with
#   options that command takes, as `vfctl [COMMAND [SUBCOMMAND]] --help` lists them.
# Usage: check_troubleshooting.sh VFCTL SOURCE_DIR
# Perl (perl-base, on every Debian system) does the work in one process.
set -euo pipefail
vfctl=$1 source_dir=$2

# The C/C++ sources of the installed programs and the package scripts (not tests/ or testing/:
# their texts are what a test expects, not what a user sees).
sources=()
for dir in util model xml vfio policy engine lldp qmp hooks cli; do
  while IFS= read -r -d '' file; do sources+=("$file"); done \
    < <(find -H "$source_dir/$dir" -type f \( -name '*.cc' -o -name '*.h' -o -name '*.c' \) -print0)
done
while IFS= read -r -d '' file; do sources+=("$file"); done \
  < <(find -H "$source_dir/debian" -maxdepth 1 -type f -name 'vfhook.*' -print0)

exec perl -CSDA -Mutf8 -e '
use strict;
use warnings;
my ($vfctl, $readme, $design, @sources) = @ARGV;
my $failed = 0;
sub slurp { my ($path) = @_; open(my $fh, "<:encoding(UTF-8)", $path) or die "$path: $!\n"; local $/; <$fh> }

my ($section) = slurp($readme) =~ /^## Troubleshooting\n(.*?)(?=^## |\z)/ms;
if (!defined $section) { print "FAIL: $readme has no \"## Troubleshooting\" section\n"; exit 1 }

# Literals joined as the compiler joins them, \" and \\ unescaped, white space runs as one.
my $corpus = "";
for my $file (@sources) {
  my $text = slurp($file);
  $text =~ s/(?<!\\)"\s*(?:\+\s*)?"//g;
  $text =~ s/\\"/"/g;
  $text =~ s/\\\\/\\/g;
  $text =~ s/\s+/ /g;
  $corpus .= $text . "\n";
}
(my $libvirt_corpus = slurp($design)) =~ s/\s+/ /g;

my $span = qr/(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)/;
my $messages = 0;
for my $line (split /\n/, $section) {
  next unless $line =~ /^- (libvirt: )?`/;
  my ($where, $haystack) = $1 ? ("docs/design.md", $libvirt_corpus) : ("the sources", $corpus);
  while ($line =~ /$span/g) {
    (my $text = $2) =~ s/^ (.*) $/$1/;
    $messages++;
    my ($longest, @missing) = (0);
    for my $piece (split /…/, $text) {
      $piece =~ s/^\s+|\s+$//g;
      $piece =~ s/\s+/ /g;
      next if $piece eq "";
      $longest = length $piece if length $piece > $longest;
      push @missing, $piece if index($haystack, $piece) < 0;
    }
    if (@missing) {
      print "FAIL: quoted message not in $where: $text\n";
      print "        missing: \x27$_\x27\n" for @missing;
      $failed = 1;
    } elsif ($longest < 12) {
      print "FAIL: quoted message too short to check (quote more of it): $text\n";
      $failed = 1;
    }
  }
}
if ($messages < 20) {
  print "FAIL: found $messages quoted messages in the section, expected at least 20\n";
  $failed = 1;
} else {
  print "ok: $messages quoted messages checked against the sources\n";
}

# The vfctl command lines.
my (@commands, $fenced);
for my $line (split /\n/, $section) {
  if ($line =~ /^```/) { $fenced = !$fenced; next }
  my @candidates;
  if ($fenced) { push @candidates, $line }
  else { while ($line =~ /$span/g) { push @candidates, split(/`/, $2) } }
  for (@candidates) { push @commands, $1 if /^\s*(?:sudo\s+)?vfctl\s+(.*?)\s*$/ }
}
my %help;
sub help_of {  # vfctl WORDS... --help, once per command
  my $key = join(" ", @_);
  $help{$key} //= do {
    open(my $fh, "-|", $vfctl, @_, "--help") or die "$vfctl: $!\n";
    local $/; my $text = <$fh> // ""; close $fh; $text
  };
}
sub subcommands { my ($help) = @_; my ($list) = $help =~ /^Subcommands:\n(.*)/ms; return () unless $list;
                  return $list =~ /^  ([a-z][a-z0-9-]*)/mg }
my %top = map { $_ => 1 } subcommands(help_of());
my $checked = 0;
COMMAND: for my $line (@commands) {
  my @words = split " ", $line;
  while (@words) {  # global options come first
    if ($words[0] eq "--json") { shift @words }
    elsif ($words[0] =~ /^(?:--config|-c|--connect)$/) { splice @words, 0, 2 }
    else { last }
  }
  next unless @words;
  (my $command = shift @words) =~ s/[,.;:)].*//;
  if (!$top{$command}) {
    print "FAIL: \x27vfctl $line\x27 names no vfctl command (\x27$command\x27; vfctl --help lists them)\n";
    $failed = 1;
    next;
  }
  my @path = ($command);
  my %sub = map { $_ => 1 } subcommands(help_of($command));
  if (%sub) {
    (my $sub = shift(@words) // "") =~ s/[,.;:)].*//;
    if (!$sub{$sub}) {
      print "FAIL: \x27vfctl $line\x27: vfctl $command has no command \x27$sub\x27\n";
      $failed = 1;
      next;
    }
    push @path, $sub;
  }
  my $help = help_of(@path);
  for my $word (@words) {
    next unless $word =~ /^(--[a-z0-9-]+)/;
    my $option = $1;
    if ($help !~ /(?:^|[ ,])\Q$option\E(?:[ =]|$)/m) {
      print "FAIL: \x27vfctl $line\x27: vfctl @path has no option $option\n";
      $failed = 1;
    }
  }
  $checked++;
}
print "ok: checked $checked vfctl command lines\n";
exit $failed;
' "$vfctl" "$source_dir/README.md" "$source_dir/docs/design.md" "${sources[@]}"
