"""axe-core in the browser tests: the vendored script (tests/vendor/README.md) run on a page."""

from pathlib import Path
from urllib.parse import urljoin

from playwright.sync_api import Page, Route

AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe.min.js"
# Where the browser fetches axe from: on the page's own origin, so the app's content security
# policy (scripts from 'self' only) lets it run unchanged. The app never serves this path.
AXE_PATH = "/__test-only__/axe.min.js"

# Every id an ARIA attribute names, that the page lacks: a screen reader would read nothing there.
MISSING_ARIA_IDS = """() => {
  const missing = [];
  for (const attribute of ["aria-describedby", "aria-labelledby", "aria-controls"]) {
    for (const element of document.querySelectorAll(`[${attribute}]`)) {
      for (const id of element.getAttribute(attribute).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) {
          missing.push(`${attribute}="${id}" on <${element.localName}>`);
        }
      }
    }
  }
  return missing;
}"""


def _serve_axe(route: Route) -> None:
    route.fulfill(path=AXE_SCRIPT, content_type="text/javascript")


def axe_violations(page: Page) -> list[str]:
    """axe-core's violations on the page as it stands, one line each (rule, impact, first nodes)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        url = urljoin(page.url, AXE_PATH)
        page.route(url, _serve_axe)
        page.add_script_tag(url=url)
        page.unroute(url, _serve_axe)
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
        for violation in found
    ]


def missing_aria_ids(page: Page) -> list[str]:
    """Each aria-describedby, aria-labelledby or aria-controls id the page does not hold."""
    return page.evaluate(MISSING_ARIA_IDS)
