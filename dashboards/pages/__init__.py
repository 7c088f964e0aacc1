"""One module per dashboard page; each turns the warehouse snapshot into a Page."""

from dashboards.pages.common import Page
from dashboards.pages.followup import followup_page
from dashboards.pages.home import home_page
from dashboards.pages.projects import projects_page
from dashboards.pages.sheets import sheets_page
from dashboards.pages.supply import supply_page
from dashboards.warehouse import Snapshot


def build_pages(snapshot: Snapshot) -> list[Page]:
    return [home_page(snapshot), projects_page(snapshot), supply_page(snapshot),
            followup_page(snapshot), sheets_page(snapshot)]
