"""The KDocs open-platform contract as this project understands it (see kdocs-api.md).

Both the client and the stand-in server read these values, so a correction to what we know of the real API
is a one-line change here. Items marked [ours] are our decisions where the public documentation is silent.
"""

from __future__ import annotations

API_PREFIX = "/api/v1/openapi"

# Paths, relative to the base URL. ``{file_token}`` is percent-encoded as one path segment by the client.
PICTURE_URLS_PATH = API_PREFIX + "/et/{file_token}/pictures/urls"  # POST [doc]
SHEETS_PATH = API_PREFIX + "/et/{file_token}/sheets"  # GET [doc]
CELLS_PATH = API_PREFIX + "/et/{file_token}/sheets/{sheet_idx}/cells"  # GET [doc]

TOKEN_PARAM = "access_token"  # the token travels as a query parameter on every call [doc]

# [ours] Pictures per call: undocumented; a sibling API caps its array at 100.
MAX_PICS_PER_CALL = 100

# [ours] Cells per read of the cells API (rows × columns of the asked range): undocumented. The stand-in
# refuses more; the client reads in smaller chunks of MAX_CELLS_PER_READ.
MAX_CELLS_PER_CALL = 50_000
MAX_CELLS_PER_READ = 10_000

# Error codes. 20007 is [seen]; the rest are [ours] and only used by the stand-in.
CODE_OK = 0
CODE_TOKEN_INVALID = 20007  # missing, invalid, expired or foreign token: never retried
CODE_FILE_NOT_FOUND = 20404  # [ours] unknown file token
CODE_BAD_REQUEST = 20400  # [ours] malformed body
CODE_TOO_MANY_PICS = 20413  # [ours] more than MAX_PICS_PER_CALL pictures in one call
CODE_QUOTA_EXCEEDED = 20429  # [ours] daily quota used up; HTTP 429 with Retry-After
CODE_INTERNAL = 50000  # [ours] server fault

# Lifetimes of pic_url per tag, in seconds [doc]. Tags absent from both tables are unknown.
TAG_LIFETIMES: dict[str, float] = {"attachment": 600.0, "local": 300.0}
UNBOUNDED_TAGS: frozenset[str] = frozenset({"cloud"})  # "the URL it was inserted with": no known expiry
# [ours] An unknown tag without a URL-embedded expiry gets the shortest known lifetime, shown as an estimate.
ESTIMATED_LIFETIME = 300.0

# [ours] Tags the stand-in hands out.
STANDIN_TAGS: tuple[str, ...] = ("attachment", "local", "cloud")

# Quotas per app per day [doc].
QUOTA_TEST_APP = 10_000
QUOTA_PUBLISHED_APP = 10_000_000
# [ours] The quota day runs on China Standard Time (UTC+8): the service is in Beijing and does not say.
QUOTA_DAY_UTC_OFFSET_HOURS = 8
