# The seed's Pattern 1 ("In-App Usage Tracking", seeds/000_0e4bf23c6a156d49.txt),
# as the guide gives it: only the spaces its text extraction put inside the
# f-strings and around the parentheses are taken out, and the indentation it
# lost is put back. Nothing else is changed.
import os
import redis
from contextlib import contextmanager
redis_client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6379"))
USAGE_KEY = "mavera:credits_used:current_period"
def track_credits(credits: int, workspace_id: str = "default"):
    """Increment in-app usage counter."""
    key = f"{USAGE_KEY}:{workspace_id}"
    redis_client.incrby(key, credits)
    redis_client.expire(key, 86400 * 35)  # Expire after ~billing cycle
def get_tracked_usage(workspace_id: str = "default") -> int:
    """Get accumulated credits used this period."""
    key = f"{USAGE_KEY}:{workspace_id}"
    return int(redis_client.get(key) or 0)
