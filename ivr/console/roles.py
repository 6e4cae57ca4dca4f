"""The console's roles and languages: a leaf the `ivr users` commands can import without the
console's own packages (argon2, Flask-WTF, Flask-Babel), which a supervisor's install may lack.
"""

from __future__ import annotations

# supervisor: every page; consultant: their own calls and their own availability; viewer:
# statistics only.
ROLES = ("supervisor", "consultant", "viewer")
LANGUAGES = ("kk", "ru", "en")
DEFAULT_LANGUAGE = "ru"
