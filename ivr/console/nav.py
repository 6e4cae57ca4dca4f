"""The console's pages, as a registered list: adding a page is one `@page` over its view.

    @page("/roster", lazy_gettext("Roster"), roles=("consultant",))
    def roster() -> str: ...

registers the route on the console's blueprint, lets in only those roles (and supervisors,
who may open every page; no roles: every account) and, with a label, puts the page in the
navigation of those roles, at its `order` (the pages of a shift's work first, one's own
account last). The module that holds the view is imported by `ivr.console.app`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ivr.console.accounts import Account
from ivr.console.auth import View, bp, requires


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any  # a lazy string, said in the language of the page that shows it
    roles: frozenset[str]  # empty: every account
    order: int = 50

    def open_to(self, account: Account) -> bool:
        return account.role == "supervisor" or not self.roles or account.role in self.roles


NAV: list[NavItem] = []


def page(rule: str, label: Any | None, roles: Iterable[str] = (),
         methods: Iterable[str] = ("GET",), order: int = 50) -> Callable[[View], View]:
    """Register a page (see the module's doc); `label=None` keeps it out of the navigation."""
    allowed = tuple(roles)

    def register(view: View) -> View:
        guarded = requires(*allowed)(view)
        bp.add_url_rule(rule, view.__name__, guarded, methods=list(methods))
        if label is not None:
            NAV.append(NavItem(f"{bp.name}.{view.__name__}", label, frozenset(allowed), order))
            NAV.sort(key=lambda item: item.order)
        return guarded
    return register


def nav_for(account: Account | None) -> list[NavItem]:
    """The pages this account may open, in the navigation's order."""
    return [item for item in NAV if account is not None and item.open_to(account)]
