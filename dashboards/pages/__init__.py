"""One module per dashboard page; each turns the site's context into a Page."""

from dashboards.pages.accessibility import accessibility_page
from dashboards.pages.common import Page, Site
from dashboards.pages.dictionary import dictionary_page
from dashboards.pages.followup import followup_page
from dashboards.pages.home import home_page
from dashboards.pages.projects import projects_page
from dashboards.pages.quality import quality_page
from dashboards.pages.sheets import sheets_page
from dashboards.pages.supply import supply_page

PAGE_BUILDERS = [home_page, supply_page, projects_page, followup_page, accessibility_page,
                 quality_page, sheets_page, dictionary_page]


def build_pages(site: Site) -> list[Page]:
    return [build(site) for build in PAGE_BUILDERS]
