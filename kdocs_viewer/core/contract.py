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

# ---- signing in (OAuth 2 authorization code) and finding the user's workbooks (kdocs-api.md §3, §5) ----
AUTH_PAGE_PATH = "/h5/auth"  # the consent page the browser opens [doc]
OAUTH_TOKEN_PATH = "/api/v1/oauth2/access_token"  # GET ?code&app_id&app_key [doc]
OAUTH_REFRESH_PATH = "/api/v1/oauth2/refresh_token"  # POST ?app_id, JSON {app_key, refresh_token} [seen]
USER_BASIC_PATH = API_PREFIX + "/user/basic"  # GET, scope user_basic [doc]
FILES_RECENT_PATH = API_PREFIX + "/personal/files/recent"  # GET ?count&offset [seen]
FILES_FLAT_PATH = API_PREFIX + "/personal/files/flat"  # GET ?exts=…&exts=…, paged [doc]; count/offset [seen]

# Where a user creates their own app (APPID + APPKEY) and registers its callback and scopes [doc].
DEVELOPER_CONSOLE_URL = "https://developer.kdocs.cn"
# Comma-separated in the authorization URL: the user's name, and the files/sheets/cells/pictures calls.
OAUTH_SCOPES: tuple[str, ...] = ("user_basic", "access_personal_files")

# [ours] One fixed loopback port: the developer console matches callback URLs exactly, so public desktop
# clients register one fixed http://127.0.0.1:<port>/callback [seen].
DEFAULT_CALLBACK_PORT = 18765
CALLBACK_PATH = "/callback"

CODE_AUTH_CODE_INVALID = 20001  # [doc] the authorization code expired (5 min) or was used already
CODE_APP_CREDENTIALS_INVALID = 20003  # [ours] unknown app_id or wrong app_key (real code undocumented)
CODE_REFRESH_TOKEN_INVALID = 20008  # [ours] unknown, expired or revoked refresh token (real one undocumented)

AUTH_CODE_LIFETIME = 300.0  # [doc] seconds an authorization code can be exchanged
ACCESS_TOKEN_LIFETIME = 86_400.0  # [seen] about 24 h; the reply's expires_in wins
REFRESH_TOKEN_LIFETIME = 90 * 86_400.0  # [seen] about 90 days; no lifetime field is returned

# [ours] Spreadsheet extensions asked of personal/files/flat (``exts`` repeated) and used to pick the
# spreadsheets out of the recent list: Excel, WPS (et/ett) and KDocs' own (ets) formats.
SPREADSHEET_EXTS: tuple[str, ...] = ("xlsx", "xlsm", "xls", "et", "ett", "ets")
# [ours] Items per page of the file lists; a short page means the last one.
FILES_PAGE_SIZE = 100
