#!/usr/bin/env perl
# sgrlines.pl: makes a `tmux capture-pane -e` screen draw in freeze as it did
# in the terminal. tmux writes each cell's attributes as a change from the cell
# before it, across line ends, while freeze starts every line afresh, draws the
# default colours (SGR 39, 49, 0) in its own theme's and loses the colour on a
# later SGR 1 (bold). So every SGR sequence is replaced by the whole state it
# leads to, spelt out (FG and BG, "r;g;b", stand for the defaults), and every
# line starts with the state the line before it ended in.
use strict;
use warnings;
my ($FG, $BG) = ($ENV{FG} // "208;208;208", $ENV{BG} // "28;28;28");
my %st;
sub reset_state { %st = (fg => "38;2;$FG", bg => "48;2;$BG", attrs => {}); }
sub full { my $a = join ";", sort { $a <=> $b } keys %{ $st{attrs} }; return "\e[0" . ($a ne "" ? ";$a" : "") . ";$st{fg};$st{bg}m"; }
sub apply {
	my @p = split /;/, ($_[0] eq "" ? "0" : $_[0]);
	while (@p) {
		my $c = shift @p;
		$c = 0 if $c eq "";
		if ($c == 0) { reset_state() }
		elsif ($c == 38 || $c == 48) {
			my $k = $c == 38 ? "fg" : "bg";
			my $m = shift @p // 0;
			if ($m == 2) { $st{$k} = "$c;2;" . join(";", splice(@p, 0, 3)) }
			elsif ($m == 5) { $st{$k} = "$c;5;" . shift(@p) }
		}
		elsif ($c == 39) { $st{fg} = "38;2;$FG" }
		elsif ($c == 49) { $st{bg} = "48;2;$BG" }
		elsif (($c >= 30 && $c <= 37) || ($c >= 90 && $c <= 97)) { $st{fg} = $c }
		elsif (($c >= 40 && $c <= 47) || ($c >= 100 && $c <= 107)) { $st{bg} = $c }
		elsif ($c >= 21 && $c <= 29) { my $off = $c == 22 ? [1, 2] : [$c - 20]; delete $st{attrs}{$_} for @$off }
		else { $st{attrs}{$c} = 1 }
	}
	return full();
}
reset_state();
while (my $line = <STDIN>) {
	my $start = full();
	$line =~ s/\e\[([0-9;]*)m/apply($1)/ge;
	print $start, $line;
}
