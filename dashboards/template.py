"""The page shell shared by every dashboard page: head, navigation, banner, footer, CSS.

Kept apart from the figure builders so that the look of the site can change without touching
a chart. Plotly comes from the one `plotly.min.js` written next to the pages, never a CDN.
"""

import html
import json
from string import Template

import plotly.graph_objects as go
import plotly.io as pio

SITE_NAME = "Observatoire local des besoins en santé"
PLOTLY_FILE = "plotly.min.js"
DEMO_BANNER = "Données de démonstration : activité synthétique"
NAVIGATION = [
    ("index.html", "Accueil"),
    ("projets.html", "Projets de maisons et pôles de santé"),
    ("offre.html", "Offre de soins et activité"),
    ("suivi.html", "Suivi des contrats et feuilles de route"),
    ("fiches.html", "Fiches indicateurs"),
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
header { background: var(--accent); color: white; padding: 0.6rem 1.5rem; }
header .site-name { margin: 0 0 0.4rem; font-weight: 600; font-size: 1.05rem; }
nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.3rem; }
nav a { color: white; text-decoration: none; padding: 0.25rem 0.7rem; border-radius: 4px;
  display: inline-block; }
nav a:hover, nav a[aria-current="page"] { background: rgba(255, 255, 255, 0.2); }
.banner-demo { background: #fff4ce; border-bottom: 2px solid #e0b400; padding: 0.6rem 1.5rem;
  color: #5c4400; }
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
abbr[title] { cursor: help; }
.panel > h2:first-child { margin-top: 0; }
dl.fiche { display: grid; grid-template-columns: 14rem 1fr; gap: 0.3rem 1rem; margin: 0; }
dl.fiche dt { font-weight: 600; color: var(--muted); }
dl.fiche dd { margin: 0; }
.empty { color: var(--muted); font-style: italic; }
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
$scripts
</head>
<body>
<header>
<p class="site-name">$site_name</p>
<nav aria-label="Pages du tableau de bord"><ul>$navigation</ul></nav>
</header>
$banner
<main>
<h1>$title</h1>
$content
</main>
<footer>
<p>Données publiées le $published_at (nuit $night_id). Les valeurs calculées sur un effectif
inférieur au seuil de diffusion sont masquées (« &lt; seuil », secret statistique).</p>
</footer>
</body>
</html>
""")


def render_page(filename: str, title: str, content: str, published_at: str, night_id: str,
                demo_activity: bool, with_plotly: bool) -> str:
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
               "</script>") if with_plotly else ""
    return PAGE.substitute(
        title=html.escape(title), site_name=SITE_NAME, css=CSS, scripts=scripts,
        navigation=navigation, banner=banner, content=content,
        published_at=html.escape(published_at), night_id=html.escape(night_id),
    )


def figure_html(fig: go.Figure, div_id: str) -> str:
    div = pio.to_html(fig, include_plotlyjs=False, full_html=False, div_id=div_id,
                      config=PLOTLY_CONFIG)
    return f'<div class="panel">{div}</div>'
