# Calls the seed's track_credits the way its chat_with_tracking does, once per
# response: workspace i%3 of (acme, beta, default), credits i%7+1, for i in
# [FROM, TO). get_tracked_usage must agree at the end.
import os, sys
lo, hi = int(sys.argv[1]), int(sys.argv[2])
names = ["acme", "beta", "default"]
for i in range(lo, hi):
    ws = names[i % 3]
    if ws == "default":
        track_credits(i % 7 + 1)
    else:
        track_credits(i % 7 + 1, ws)
print(" ".join(f"{ws}={get_tracked_usage(ws)}" for ws in names))
