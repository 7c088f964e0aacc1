"""Writes recensement_maisons_poles_sante_npdc_2013-05.xlsx, the demo regional census.

Every project below is transcribed from seed 002 (ARS Nord-Pas-de-Calais press kit, May 2013),
fiche 6 "Les maisons et pôles de santé par territoire", in the seed's order and spelling
(including its typos: "Hondshoote", "Aunoye-Aymeries"); territory names are written one
consistent way. Modules NMR come from fiche 5. The seed prints a structure type only for the
nine NMR structures (fiche 5) and for "Laventie-Fleurbaix-Sailly sur la Lys (pôles de santé)";
every other type is illustrative and says so in the Commentaire column.

Run: .venv/bin/python data/demo/census/make_census.py
"""

import datetime as dt
from pathlib import Path

import xlsxwriter

OUTPUT = Path(__file__).with_name("recensement_maisons_poles_sante_npdc_2013-05.xlsx")

ARTOIS = "Artois-Douaisis"
HAINAUT = "Hainaut-Cambrésis"
LITTORAL = "Littoral"
METROPOLE = "Métropole-Flandre intérieure"

FONCTIONNEMENT = "En fonctionnement"
OPERATIONNALISATION = "En cours d'opérationnalisation"
CONCEPTION = "En conception"
REFLEXION = "En réflexion"

# (territory, stage as the seed words it, place as printed, type printed by the seed or None,
#  modules NMR from fiche 5, note)
PROJECTS = [
    (ARTOIS, FONCTIONNEMENT, "Aniche", "MSP", "1,2", ""),
    (ARTOIS, FONCTIONNEMENT, "Auxi-le Château", None, "", ""),
    (ARTOIS, FONCTIONNEMENT, "Croisilles", None, "", ""),
    (ARTOIS, FONCTIONNEMENT, "Laventie", "MSP", "1,2", ""),
    (ARTOIS, FONCTIONNEMENT, "Sin le Noble Quartier Les Epis", "MSP", "1,2",
     "La fiche 5 cite « Sin le Noble » (modules 1 et 2) : rattaché à ce projet, le seul de Sin "
     "le Noble en fonctionnement"),
    (ARTOIS, OPERATIONNALISATION, "Anvin", None, "", ""),
    (ARTOIS, OPERATIONNALISATION, "Fleurbaix", None, "", ""),
    (ARTOIS, OPERATIONNALISATION, "Laventie-Fleurbaix-Sailly sur la Lys", "PSP", "",
     "Fiche 6 : « (pôles de santé) »"),
    (ARTOIS, OPERATIONNALISATION, "Sailly sur la Lys", None, "", ""),
    (ARTOIS, CONCEPTION, "Frévent", None, "", ""),
    (ARTOIS, CONCEPTION, "Saint Pol sur Ternoise", None, "", ""),
    (ARTOIS, CONCEPTION, "Sin le Noble Le Raquet", None, "", ""),
    (ARTOIS, REFLEXION, "Avesnes le Comte", None, "", ""),
    (ARTOIS, REFLEXION, "Aubigny en Artois", None, "", ""),
    (ARTOIS, REFLEXION, "Tincques", None, "", ""),
    (ARTOIS, REFLEXION, "Baralle/Marquion", None, "", ""),
    (ARTOIS, REFLEXION, "Lens Grande Résidence", None, "", ""),
    (ARTOIS, REFLEXION, "Evin-Malmaison", None, "", ""),
    (ARTOIS, REFLEXION, "Sallaumines-Noyelles sous Lens", None, "", ""),
    (HAINAUT, FONCTIONNEMENT, "Aulnoy les Valenciennes", "MSP", "2",
     "La fiche 5 écrit « Aulnoy les Valenciennes (Marly) »"),
    (HAINAUT, FONCTIONNEMENT, "Denain", "MSP", "3", ""),
    (HAINAUT, FONCTIONNEMENT, "Maubeuge", "PSP", "1,2", ""),
    (HAINAUT, OPERATIONNALISATION, "Aunoye-Aymeries", None, "", ""),
    (HAINAUT, OPERATIONNALISATION, "Louvroil", None, "", ""),
    (HAINAUT, OPERATIONNALISATION, "Trélon", None, "", ""),
    (HAINAUT, OPERATIONNALISATION, "Condé sur Escaut", None, "", ""),
    (HAINAUT, CONCEPTION, "Busigny", None, "", ""),
    (HAINAUT, CONCEPTION, "Le Cateau-Cambrésis", None, "", ""),
    (HAINAUT, REFLEXION, "Marcoing", None, "", ""),
    (HAINAUT, REFLEXION, "Quievy", None, "", ""),
    (HAINAUT, REFLEXION, "Villers-Outréau", None, "", ""),
    (HAINAUT, REFLEXION, "Solesmes", None, "", ""),
    (HAINAUT, REFLEXION, "Ferrière-la-Grande", None, "", ""),
    (HAINAUT, REFLEXION, "Fourmies", None, "", ""),
    (LITTORAL, FONCTIONNEMENT, "Fruges", "MSP", "1,2", ""),
    (LITTORAL, FONCTIONNEMENT, "Marquise", None, "", ""),
    (LITTORAL, OPERATIONNALISATION, "Outreau", None, "", ""),
    (LITTORAL, CONCEPTION, "Wimereux", None, "", ""),
    (LITTORAL, CONCEPTION, "Desvres-Samer", None, "", ""),
    (LITTORAL, CONCEPTION, "Hondshoote", None, "", ""),
    (LITTORAL, REFLEXION, "Le Portel quartier Carnot", None, "", ""),
    (LITTORAL, REFLEXION, "La Capelle les Boulogne", None, "", ""),
    (LITTORAL, REFLEXION, "Auchy les Hesdin", None, "", ""),
    (METROPOLE, FONCTIONNEMENT, "Lille Moulins", "PSP", "1,2", ""),
    (METROPOLE, FONCTIONNEMENT, "Steenvoorde", "MSP", "1,2", ""),
    # The seed words this one stage differently for Métropole: "1 en opérationnalisation".
    (METROPOLE, "En opérationnalisation", "La Gorgue", None, "", ""),
    (METROPOLE, CONCEPTION, "Lomme Marais-Mont à Camp", None, "", ""),
    (METROPOLE, CONCEPTION, "Pays de Cassel", None, "", ""),
    (METROPOLE, CONCEPTION, "Lille Quartier Lille Sud", None, "", ""),
    (METROPOLE, CONCEPTION, "Wattrelos quartier Sapins Verts", None, "", ""),
    (METROPOLE, REFLEXION, "Hellemmes", None, "", ""),
    (METROPOLE, REFLEXION, "La Bassée", None, "", ""),
    (METROPOLE, REFLEXION, "Lille Porte d'Arras", None, "", ""),
]

TITLE = (
    "Recensement des maisons et pôles de santé pluriprofessionnels : en fonctionnement et en "
    "projet — Mai 2013"
)
SOURCE = "Source : ARS Nord-Pas-de-Calais, point presse mensuel, mai 2013"
WARNING = (
    "Fichier de démonstration reconstitué à partir du dossier de presse : les types de structure "
    "non imprimés par la source sont illustratifs (voir la colonne Commentaire)."
)
HEADERS = [
    "Date du recensement", "Région", "Territoire de santé", "Nom du projet",
    "Type de structure", "Commune(s)", "Stade", "Zone fragile", "ZUS", "Modules NMR",
    "Commentaire",
]
ILLUSTRATIVE_TYPE = "Type de structure non précisé par la source : MSP indiqué à titre illustratif"


def rows() -> list[list[str]]:
    out = []
    for territory, stage, place, printed_type, modules, note in PROJECTS:
        notes = [note] if note else []
        if printed_type is None:
            notes.append(ILLUSTRATIVE_TYPE)
        out.append([
            "2013-05", "Nord-Pas-de-Calais", territory, place, printed_type or "MSP", place,
            stage, "", "", modules, " ; ".join(notes),
        ])
    return out


def main() -> None:
    workbook = xlsxwriter.Workbook(OUTPUT)
    # A fixed creation date keeps the file byte-identical from one run to the next.
    workbook.set_properties({"title": TITLE, "author": "observatoire (démonstration)",
                             "created": dt.datetime(2013, 5, 31)})
    sheet = workbook.add_worksheet("Recensement mai 2013")
    bold = workbook.add_format({"bold": True})
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                  "text_wrap": True})
    sheet.write(0, 0, TITLE, workbook.add_format({"bold": True, "font_size": 13}))
    sheet.write(1, 0, SOURCE, bold)
    sheet.write(2, 0, WARNING)
    sheet.write_row(4, 0, HEADERS, header)
    for offset, row in enumerate(rows()):
        sheet.write_row(5 + offset, 0, row)
    for column, width in enumerate([12, 18, 26, 34, 10, 34, 30, 8, 8, 8, 70]):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(5, 0)
    workbook.close()


if __name__ == "__main__":
    main()
