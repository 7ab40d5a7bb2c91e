#!/usr/bin/env bash
# Regenerates docs/dashboard.svg, the README's picture: the demo run in a real
# terminal (a private tmux server, 120×36 by default), captured with its
# colours (tmux capture-pane -e) once it has run WAIT seconds, and drawn as SVG
# by charmbracelet/freeze. The charts are switched to all workspaces (key c):
# the row selected first is the workspace that ran out, whose chart is empty.
# scripts/sgrlines.pl spells out each line's colours for freeze (tmux writes
# them as changes from the cell before, across line ends). Needs tmux and perl;
# freeze comes through the Go module proxy. THEME=light draws a light terminal.
#
#   scripts/screenshot.sh                 # docs/dashboard.svg, 120×36, after 20 s
#   W=200 H=50 WAIT=60 scripts/screenshot.sh docs/dashboard-200x50.svg
#   THEME=light W=80 H=24 scripts/screenshot.sh /tmp/light.png   # .png works too
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/dashboard.svg}
W=${W:-120} H=${H:-36} WAIT=${WAIT:-20} THEME=${THEME:-dark}
case $THEME in
dark) FG="208;208;208" BG="28;28;28" BGHEX="#1c1c1c" ;;
light) FG="28;28;28" BG="255;255;255" BGHEX="#ffffff" ;;
*) echo "THEME is dark or light" >&2; exit 2 ;;
esac
FREEZE=${FREEZE:-github.com/charmbracelet/freeze@v0.2.2}
tmp=$(mktemp -d)
sock="mavtop-shot-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; [ -n "${KEEP:-}" ] && cp "$tmp/screen.ansi" "$KEEP"; rm -rf "$tmp"' EXIT
go build -o "$tmp/mavtop" .
# --theme: the picture does not depend on the terminal the script runs in.
tmux -L "$sock" new-session -d -s shot -x "$W" -y "$H" \
	"env -u REDIS_URL -u NO_COLOR TERM=xterm-256color COLORTERM=truecolor $tmp/mavtop --theme $THEME; sleep 600"
sleep 5
tmux -L "$sock" send-keys -t shot c
sleep "$WAIT"
tmux -L "$sock" capture-pane -e -p -t shot | FG=$FG BG=$BG perl scripts/sgrlines.pl > "$tmp/screen.ansi"
tmux -L "$sock" send-keys -t shot q
go run "$FREEZE" --language ansi --window=false --padding 20 --margin 0 --font.size 14 \
	--background "$BGHEX" --output "$out" < "$tmp/screen.ansi"
echo "wrote $out (${W}×${H}, after ${WAIT} s of demo)"
