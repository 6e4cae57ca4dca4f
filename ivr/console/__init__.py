"""The supervisors' and consultants' web console: server-rendered pages in Kazakh, Russian and
English, served by its own process (the Procfile's `console`) on an internal address, never by
the public webhook app.

- `app`        the factory: configuration, security headers, the blueprint, error pages
- `context`    what every view shares, built once by the factory
- `accounts`   who may log in, in which role; argon2 password hashes; `audit` logs each change
- `throttle`   failed logins counted in the shared Redis, which pause guessing
- `auth`       logging in and out, the session and its idle timeout, `@requires(role)`
- `nav`        the registered list of pages: a page is one `@page` entry
- `pages`      home, one's own account, the accounts; `forms`, `languages`, `errors` serve them
- one module per page: `now`, `coverage`, `roster` (with `roster_forms`), `availability`,
  `calls`, `flows`, `figures` (statistics, drawn by `charts`); `words` holds the names and
  times they share

Nothing here ever holds a caller's number or a CallSid: the console shows staff and figures.
"""
