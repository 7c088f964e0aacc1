"""The page shell shared by every dashboard page: head, navigation, selection bar, footer, CSS.

Kept apart from the figure builders so that the look of the site can change without touching
a chart. Plotly comes from the one `plotly.min.js` written next to the pages, never a CDN; the
page's data is a JSON block read by `observatoire.js`, also written next to the pages.
"""

import html
import json
from string import Template

from dashboards.views import PLOTLY_FILE

SITE_NAME = "Observatoire local des besoins en santé"
DEMO_BANNER = "Données de démonstration : activité synthétique"
SCRIPT_FILE = "observatoire.js"
NAVIGATION = [  # short labels: the whole menu fits on one line at 1280 pixels
    ("index.html", "Accueil"),
    ("offre.html", "Offre de soins"),
    ("projets.html", "Maisons et pôles de santé"),
    ("suivi.html", "Suivi des contrats"),
    ("accessibilite.html", "Accessibilité"),
    ("qualite.html", "Qualité des données"),
    ("fiches.html", "Fiches indicateurs"),
    ("dictionnaire.html", "Dictionnaire des données"),
]

# Plotly's own French strings for the tool bar and date formats (plotly.js locale "fr").
PLOTLY_FRENCH = {
    "moduleType": "locale",
    "name": "fr",
    "dictionary": {
        "Autoscale": "Échelle automatique",
        "Box Select": "Sélection rectangulaire",
        "Compare data on hover": "Comparer les données en survol",
        "Double-click to zoom back out": "Double-cliquer pour dézoomer",
        "Download plot": "Télécharger le graphique",
        "Download plot as a PNG": "Télécharger le graphique en PNG",
        "Lasso Select": "Sélection lasso",
        "Pan": "Translation",
        "Produced with Plotly.js": "Généré avec Plotly.js",
        "Reset axes": "Réinitialiser les axes",
        "Show closest data on hover": "Afficher la donnée la plus proche en survol",
        "Toggle Spike Lines": "Activer/désactiver les pics",
        "Zoom": "Zoom",
        "Zoom in": "Zoom avant",
        "Zoom out": "Zoom arrière",
    },
    "format": {
        "days": ["Dimanche", "Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi"],
        "shortDays": ["Dim", "Lun", "Mar", "Mer", "Jeu", "Ven", "Sam"],
        "months": ["Janvier", "Février", "Mars", "Avril", "Mai", "Juin", "Juillet", "Août",
                   "Septembre", "Octobre", "Novembre", "Décembre"],
        "shortMonths": ["Janv.", "Févr.", "Mars", "Avr.", "Mai", "Juin", "Juil.", "Août",
                        "Sept.", "Oct.", "Nov.", "Déc."],
        "date": "%d/%m/%Y",
        "decimal": ",",
        "thousands": "\u202f",
    },
}
PLOTLY_CONFIG = {
    "locale": "fr",
    "displaylogo": False,
    # The default tool bar has a "Share chart" button that uploads the data to Plotly Cloud.
    "showSendToCloud": False,
    "plotlyServerURL": "",
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "toggleSpikelines"],
}

CSS = """
:root { --accent: #1d4e89; --muted: #5b6470; --line: #d9dde3; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #1f2328; background: #f6f7f9; line-height: 1.5; }
header { background: var(--accent); color: white; padding: 0.5rem 1.5rem; display: flex;
  flex-wrap: wrap; align-items: center; gap: 0.3rem 1.5rem; }
header .site-name { margin: 0; font-weight: 600; font-size: 1.05rem; }
header nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap;
  gap: 0.3rem; }
header nav a { color: white; text-decoration: none; padding: 0.2rem 0.55rem; border-radius: 4px;
  display: inline-block; font-size: 0.93rem; }
header nav a:hover, header nav a[aria-current="page"] { background: rgba(255, 255, 255, 0.2); }
.banner-demo { background: #fff4ce; border-bottom: 2px solid #e0b400; padding: 0.4rem 1.5rem;
  color: #5c4400; font-size: 0.93rem; }
main { max-width: 1180px; margin: 0 auto; padding: 1rem 1.5rem 2rem; }
h1 { font-size: 1.6rem; margin: 0.5rem 0 1rem; color: var(--accent); }
h2 { font-size: 1.25rem; margin: 2rem 0 0.6rem; border-bottom: 1px solid var(--line); }
.intro { color: var(--muted); max-width: 60rem; }
.panel { background: white; border: 1px solid var(--line); border-radius: 6px; padding: 0.8rem;
  margin: 1rem 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr));
  gap: 1rem; margin: 1rem 0; }
.card { background: white; border: 1px solid var(--line); border-radius: 6px; padding: 1rem; }
.card .figure { font-size: 2rem; font-weight: 700; color: var(--accent); margin: 0; }
.card .label { margin: 0; font-weight: 600; }
.card .detail { margin: 0.3rem 0 0; color: var(--muted); font-size: 0.92rem; }
.card a { font-weight: 600; }
figure.table { margin: 1rem 0 1.5rem; }
figcaption { font-weight: 600; margin-bottom: 0.4rem; }
.download { font-weight: normal; font-size: 0.9rem; margin-left: 0.6rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; background: white; font-size: 0.92rem; min-width: 50%; }
th, td { border: 1px solid var(--line); padding: 0.3rem 0.6rem; text-align: left;
  vertical-align: top; }
thead th { background: #eef1f5; }
tbody th { font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.masque { color: var(--muted); font-style: italic; }
th.prose { min-width: 12rem; }
abbr[title] { cursor: help; }
.panel > h2:first-child { margin-top: 0; }
dl.fiche { display: grid; grid-template-columns: 14rem 1fr; gap: 0.3rem 1rem; margin: 0; }
dl.fiche dt { font-weight: 600; color: var(--muted); }
dl.fiche dd { margin: 0; }
.empty { color: var(--muted); font-style: italic; }
.selection { position: sticky; top: 0; z-index: 10; background: #e8eef6;
  border-bottom: 1px solid var(--line); padding: 0.45rem 1.5rem; display: flex;
  flex-wrap: wrap; gap: 0.4rem 1rem; align-items: end; font-size: 0.9rem; }
.selection label { display: flex; flex-direction: column; color: var(--muted); }
.selection select { font: inherit; color: #1f2328; padding: 0.15rem 0.3rem; max-width: 17rem; }
.selection .note-portee { margin: 0; color: var(--muted); font-style: italic; align-self: center; }
.note-vue { margin: 0 0 0.4rem; color: #5c4400; background: #fff4ce; padding: 0.3rem 0.6rem;
  border-radius: 4px; font-size: 0.92rem; }
.vide, .vide-section { color: var(--muted); font-style: italic; }
.note { color: var(--muted); font-size: 0.9rem; margin: 0.2rem 0 0.5rem; }
.scroll.haut { max-height: 32rem; overflow-y: auto; }
.scroll.haut thead th { position: sticky; top: 0; }
.alerte { background: #fdecea; border-left: 4px solid #d73027; padding: 0.6rem 1rem;
  font-weight: 600; }
.avertissement { background: #fff4ce; border-left: 4px solid #e0b400; padding: 0.6rem 1rem; }
.statut { background: #e9f5ec; border-left: 4px solid #1a9850; padding: 0.6rem 1rem; }
.card-slot { display: contents; }
.card-slot > .note-vue, .card-slot > .vide { display: none; }
.card-slot > .vue { display: flex; }
.card-slot > .vue[hidden] { display: none; }
.card-slot > .vue > .card { flex: 1; }
.download + .download { margin-left: 0.4rem; }
.sommaire ul { padding-left: 1.2rem; }
details.sommaire { margin: 1rem 0; }
details.sommaire summary { cursor: pointer; font-weight: 600; }
details.sommaire ul { max-height: 24rem; overflow-y: auto; }
.table-entrepot h3 { margin: 0 0 0.3rem; font-size: 1.05rem; }
.table-entrepot small { color: var(--muted); font-weight: normal; }
ul.pages li { margin: 0.2rem 0; }
footer { color: var(--muted); font-size: 0.88rem; border-top: 1px solid var(--line);
  padding: 1rem 1.5rem; text-align: center; }
"""

PAGE = Template("""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title · $site_name</title>
<style>$css</style>
</head>
<body>
<header>
<p class="site-name">$site_name</p>
<nav aria-label="Pages du tableau de bord"><ul>$navigation</ul></nav>
</header>
$banner
<form class="selection" aria-label="Territoire et période" onsubmit="return false">
<label>Région <select id="choix-region"></select></label>
<label>Département <select id="choix-departement"></select></label>
<label>EPCI <select id="choix-epci"></select></label>
<label>Territoire de santé ou programme <select id="choix-programme"></select></label>
<label><span id="libelle-periode">Période</span> <select id="choix-periode"></select></label>
<p class="note-portee" hidden></p>
</form>
<main>
<h1>$title</h1>
$content
</main>
<footer>
<p>Données publiées le $published_at (nuit $night_id). Les valeurs calculées sur un effectif
inférieur au seuil de diffusion sont masquées (« &lt; seuil », secret statistique).</p>
</footer>
<script type="application/json" id="donnees-page">$data</script>
$scripts
</body>
</html>
""")


def render_page(filename: str, title: str, content: str, published_at: str, night_id: str,
                demo_activity: bool, data_json: str, with_plotly: bool) -> str:
    current = ' aria-current="page"'
    navigation = "".join(
        f'<li><a href="{href}"{current if href == filename else ""}>{html.escape(label)}</a></li>'
        for href, label in NAVIGATION
    )
    banner = (f'<div class="banner-demo" role="note"><strong>{DEMO_BANNER}</strong> — les '
              "statistiques d'activité des professionnels sont générées par le programme, "
              "elles ne décrivent aucun professionnel réel.</div>") if demo_activity else ""
    scripts = (f'<script src="{PLOTLY_FILE}" charset="utf-8"></script>\n'
               f"<script>Plotly.register({json.dumps(PLOTLY_FRENCH, ensure_ascii=False)});"
               f"Plotly.setPlotConfig({json.dumps(PLOTLY_CONFIG)});</script>\n"
               if with_plotly else "")
    scripts += f'<script src="{SCRIPT_FILE}" charset="utf-8"></script>'
    return PAGE.substitute(
        title=html.escape(title), site_name=SITE_NAME, css=CSS, scripts=scripts,
        navigation=navigation, banner=banner, content=content,
        published_at=html.escape(published_at), night_id=html.escape(night_id),
        data=data_json,
    )
