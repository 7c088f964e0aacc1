"""What the readers accept: one contract per source family (DESIGN §4) and the controlled
vocabularies that staging maps free-text values onto.

Headers and vocabulary terms are compared after `normalize_label`, so "Code commune INSEE",
"code_commune_insee" and "CODE COMMUNE  INSEE" are the same name. A normalised synonym belongs
to at most one column of a contract and to at most one code of a vocabulary: that is checked
when this module is imported.
"""

import functools
import re
import unicodedata
from dataclasses import dataclass

_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def normalize_label(text: str) -> str:
    """Lower case, accents stripped, every run of other characters turned into one `_`.

    The same rule in DuckDB SQL, for staging queries that map values with the vocabularies:
    `trim(regexp_replace(lower(strip_accents(x)), '[^a-z0-9]+', '_', 'g'), '_')`.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    unaccented = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALPHANUMERIC.sub("_", unaccented.lower()).strip("_")


# Words a header may add around a column's name: articles, « nombre » or « n° » before a count
# or an identifier, « (oui/non) » after a yes/no column.
_FILLERS = {"de", "d", "du", "des", "la", "le", "l", "les", "nb", "nbre", "nombre", "n", "no",
            "num", "numero", "oui", "non"}


def _without_fillers(key: str) -> str:
    """`key` without its filler words, unless that leaves less than a word (« nb_c »)."""
    loose = "_".join(word for word in key.split("_") if word not in _FILLERS)
    return loose if len(loose) >= 3 else key


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    description: str
    synonyms: tuple[str, ...] = ()

    @property
    def accepted_names(self) -> tuple[str, ...]:
        """The canonical name then every synonym, normalised, without repeats."""
        names = (self.name, *self.synonyms)
        return tuple(dict.fromkeys(normalize_label(n) for n in names))


@dataclass(frozen=True)
class Contract:
    family: str
    label: str
    columns: tuple[Column, ...]

    def __post_init__(self) -> None:
        _check_unique(
            {c.name: c.accepted_names for c in self.columns}, f"contract {self.family}"
        )
        _check_unique(
            {c.name: tuple(dict.fromkeys(map(_without_fillers, c.accepted_names)))
             for c in self.columns}, f"contract {self.family}, without fillers"
        )

    @functools.cached_property
    def _columns_by_name(self) -> tuple[dict[str, str], dict[str, str]]:
        """Each accepted name → its column, and each one without its filler words: every
        header of every candidate line is looked up in them."""
        exact = {name: c.name for c in self.columns for name in c.accepted_names}
        loose = {_without_fillers(name): c.name for c in self.columns
                 for name in c.accepted_names}
        return exact, loose

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def match(self, header: str) -> str | None:
        """The canonical column a file header stands for, or None if the contract lacks it: a
        header named as one of the column's names, or as one without its filler words
        (« Nb de visites », « N° ADELI », « Mois d'activité »)."""
        key = normalize_label(header)
        exact, loose = self._columns_by_name
        return exact.get(key) or loose.get(_without_fillers(key))


@dataclass(frozen=True)
class Term:
    label: str
    synonyms: tuple[str, ...] = ()
    order: int | None = None


Vocabulary = dict[str, Term]


def vocabulary_index(vocabulary: Vocabulary) -> dict[str, str]:
    """Normalised code, label and synonyms → code; load it as a table to map values in SQL."""
    return {
        normalize_label(name): code
        for code, term in vocabulary.items()
        for name in (code, term.label, *term.synonyms)
    }


def match_term(vocabulary: Vocabulary, text: str | None) -> str | None:
    """The code a free-text value stands for, or None when the vocabulary does not know it."""
    if text is None:
        return None
    return vocabulary_index(vocabulary).get(normalize_label(text))


def _check_unique(names_by_key: dict[str, tuple[str, ...]], where: str) -> None:
    owner: dict[str, str] = {}
    for key, names in names_by_key.items():
        for name in names:
            if owner.setdefault(name, key) != key:
                raise ValueError(f"{where}: '{name}' belongs to both {owner[name]} and {key}")


ACTIVITY = Contract(
    family="activity",
    label="statistiques d'activité des professionnels",
    columns=(
        Column("periode", True, "Mois d'activité (AAAA-MM)",
               ("période", "mois", "date", "mois_activite", "periode_activite", "annee_mois")),
        Column("id_professionnel", True, "Identifiant RPPS du professionnel (11 chiffres)",
               ("rpps", "identifiant_rpps", "num_rpps", "numero_rpps", "n_rpps",
                "identifiant_pp", "id_pp", "Identifiant PP", "Numéro RPPS",
                # the identifier may be an ADELI number
                "adeli", "identifiant_adeli", "rpps_adeli", "rpps_ou_adeli")),
        Column("profession", True, "Profession (libellé ou code)",
               ("profession_sante", "Libellé profession", "libelle_profession",
                "categorie_professionnelle", "specialite")),
        Column("code_commune_exercice", True, "Code INSEE de la commune d'exercice",
               ("code_commune", "Code commune INSEE", "code_commune_insee", "CODGEO",
                "insee_com", "commune_exercice", "code_insee", "depcom",
                "Code commune (coord. structure)", "Code INSEE de la commune d'exercice",
                "Commune d'exercice (code INSEE)")),
        Column("structure", False, "Structure d'exercice (nom ou numéro FINESS)",
               ("nom_structure", "site", "lieu_exercice", "finess", "FINESS site",
                "Raison sociale site", "raison_sociale")),
        Column("annee_naissance", False, "Année de naissance",
               ("année de naissance", "annee_de_naissance", "an_naissance", "naissance")),
        Column("tranche_age", False, "Tranche d'âge",
               ("tranche d'âge", "classe_age", "classe d'âge", "age")),
        Column("etp", True, "Équivalent temps plein sur le mois",
               ("equivalent_temps_plein", "Équivalent temps plein", "quotite")),
        Column("nb_actes", True, "Nombre d'actes du mois",
               ("actes", "nombre_actes", "Nombre d'actes", "nb_actes_total")),
        Column("nb_consultations", False, "Nombre de consultations",
               ("consultations", "Nombre de consultations", "nb_c")),
        Column("nb_visites", False, "Nombre de visites à domicile",
               ("visites", "Nombre de visites", "nb_v")),
        Column("nb_patients", False, "Nombre de patients vus (file active)",
               ("patients", "Nombre de patients", "file_active", "patientele",
                "patients vus")),
        Column("nb_patients_medecin_traitant", False,
               "Nombre de patients ayant déclaré le professionnel médecin traitant",
               ("patients médecin traitant", "Nombre de patients médecin traitant",
                "nb_patients_mt", "patientele_mt", "patientele_medecin_traitant")),
        Column("nb_soins_non_programmes", False, "Nombre de soins non programmés",
               ("soins non programmés", "Nombre de soins non programmés", "nb_snp", "snp")),
    ),
)

CENSUS = Contract(
    family="census",
    label="recensement régional des projets de maisons et pôles de santé",
    columns=(
        Column("date_recensement", True, "Date du recensement (AAAA-MM ou date)",
               ("Date du recensement", "date", "date_releve", "mois_recensement",
                "recensement")),
        Column("region", True, "Région",
               ("région", "libelle_region", "nom_region", "reg")),
        Column("territoire", True, "Territoire de santé ou de proximité",
               ("Territoire de santé", "territoire_sante", "territoire_de_proximite",
                "zone_de_proximite", "Territoire de démocratie sanitaire")),
        Column("nom_projet", True, "Nom du projet ou de la structure",
               ("Nom du projet", "projet", "nom", "nom_structure", "Intitulé du projet",
                "intitule", "Nom de la MSP")),
        Column("type_structure", True, "Type de structure (MSP, PSP, CDS, CPTS)",
               ("Type de structure", "type", "type_projet", "categorie")),
        Column("communes", True, "Commune(s) d'implantation : noms ou codes INSEE",
               ("Commune(s)", "commune", "communes_concernees", "Commune(s) d'implantation",
                "Communes d'implantation", "Commune d'implantation", "localisation", "lieu")),
        Column("stade", True, "Degré de maturité du projet",
               ("stade_projet", "maturite", "Degré de maturité", "etat_avancement",
                "Stade d'avancement", "avancement", "statut", "etape")),
        Column("zone_fragile", False, "Projet situé en zone fragile (oui/non)",
               ("Zone fragile", "zone_en_difficulte", "Zone en difficulté", "fragile")),
        Column("zus", False, "Projet au sein ou à proximité d'une zone urbaine sensible",
               ("ZUS", "Zone urbaine sensible", "qpv", "quartier_prioritaire",
                "Quartier politique de la ville",
                "Quartier prioritaire de la politique de la ville")),
        Column("modules_nmr", False, "Modules des nouveaux modes de rémunération (ex. « 1,2 »)",
               ("Modules NMR", "Module(s) NMR", "nmr", "modules", "enmr",
                "Nouveaux modes de rémunération")),
        Column("commentaire", False, "Commentaire libre",
               ("commentaires", "remarque", "remarques", "observations")),
    ),
)

FOLLOWUP = Contract(
    family="followup",
    label="critères de suivi (CLS, feuille de route, contrat CPTS)",
    columns=(
        Column("programme", True, "Programme suivi (CLS, feuille de route de pôle, ACI CPTS)",
               ("Programme", "contrat", "dispositif", "nom_programme", "cls",
                "Intitulé du programme")),
        Column("territoire", True, "Territoire du programme (communes ou EPCI)",
               ("périmètre", "perimetre", "epci", "territoire_programme")),
        Column("axe", False, "Axe stratégique", ("axe_strategique", "Axe stratégique")),
        Column("action", True, "Action ou fiche-action",
               ("fiche_action", "Fiche action", "Fiche-action", "intitule_action")),
        Column("critere", True, "Critère (indicateur) de suivi",
               ("critère", "Critère de suivi", "critere_suivi", "Critères de suivi",
                "indicateur", "Indicateurs de suivi", "Indicateur de suivi",
                # seed 000's action sheets: « critères d'évaluation »
                "Critère d'évaluation", "Critères d'évaluation", "Indicateur d'évaluation",
                "Indicateurs d'évaluation")),
        Column("periode", True, "Période mesurée (année, AAAA-MM ou date)",
               ("période", "annee", "année", "date", "mois")),
        Column("valeur", True,
               "Valeur mesurée (virgule décimale acceptée), ou état d'une étape (réalisé, en "
               "cours, non réalisé, abandonné)",
               ("valeur_observee", "Valeur observée", "realise", "réalisé", "resultat",
                "Valeur atteinte", "Valeur réalisée", "Valeur mesurée")),
        Column("cible", False, "Valeur cible", ("objectif", "valeur_cible", "Valeur cible")),
        Column("unite", False, "Unité de la valeur", ("unité", "unite_mesure")),
        Column("nature_valeur", False,
               "« observée » (fait publié) ou « illustrative » (valeur de démonstration)",
               ("Nature de la valeur", "nature", "statut_valeur")),
        Column("commentaire", False, "Commentaire ou source",
               ("commentaires", "remarque", "remarques", "observations", "source")),
    ),
)

CONTRACTS: dict[str, Contract] = {c.family: c for c in (ACTIVITY, CENSUS, FOLLOWUP)}

# First-contact primary-care professions of the data.ameli "effectifs et densités" file
# (toutes_specialites_departement.csv, 2024); each ameli label is a synonym so that its rows
# map onto the same codes as the activity files.
PROFESSIONS: Vocabulary = {
    "medecin_generaliste": Term(
        "Médecin généraliste",
        ("Médecin généraliste libéral", "MG", "omnipraticien", "omnipraticiens",
         "Médecin - Médecine générale", "Médecine générale", "Médecins généralistes",
         "Ensemble des médecins généralistes",
         "Médecins généralistes (hors médecins à expertise particulière - MEP)",
         # the RPPS's wording since general practice became a specialty (2017)
         "Médecin spécialiste en médecine générale", "Spécialiste en médecine générale",
         "Médecin qualifié en médecine générale", "Qualifié en médecine générale",
         # as MSP and CPTS exports word them
         "Généraliste", "Médecin généraliste remplaçant", "MG remplaçant"),
    ),
    "infirmier": Term(
        "Infirmier",
        ("Infirmière", "Infirmier libéral", "Infirmière libérale", "IDE", "IDEL", "Infirmiers",
         # nurses by profession in the RPPS, whatever their practice
         "Infirmier en pratique avancée", "Infirmière en pratique avancée", "IPA",
         "Infirmier Asalée", "Infirmière Asalée", "Infirmière puéricultrice", "Puéricultrice"),
    ),
    "masseur_kinesitherapeute": Term(
        "Masseur-kinésithérapeute",
        ("Masseuse-kinésithérapeute", "kinésithérapeute", "kiné", "MK",
         "Masseurs-kinésithérapeutes"),
    ),
    "chirurgien_dentiste": Term(
        "Chirurgien-dentiste",
        ("Chirurgienne-dentiste", "dentiste", "Chirurgiens-dentistes",
         "Ensemble des chirurgiens-dentistes",
         "Chirurgiens-dentistes (hors spécialistes d'orthopédie dento-faciale - ODF)"),
    ),
    "sage_femme": Term("Sage-femme", ("Sages-femmes", "maïeuticien", "SF")),
    "orthophoniste": Term("Orthophoniste", ("Orthophonistes",)),
    "pedicure_podologue": Term("Pédicure-podologue", ("podologue", "Pédicures-podologues")),
    "orthoptiste": Term("Orthoptiste", ("Orthoptistes",)),
}

# Professions an MSP's or a CPTS's activity export may also list, which the observatory does not
# follow: their rows are set aside (audit.rejected_rows) without blocking the night, where a
# profession nobody recognises blocks it, since it may be one of PROFESSIONS misspelt.
OTHER_PROFESSIONS: Vocabulary = {
    "medecin_specialiste": Term(
        "Médecin spécialiste (hors médecine générale)",
        ("médecin spécialiste", "spécialiste", "cardiologue", "pédiatre", "psychiatre",
         "gynécologue", "gynécologue-obstétricien", "gynécologue médical", "ophtalmologiste",
         "ophtalmologue", "dermatologue", "radiologue", "rhumatologue", "ORL",
         "oto-rhino-laryngologiste", "gastro-entérologue", "pneumologue", "neurologue",
         "endocrinologue", "néphrologue", "gériatre", "anesthésiste", "chirurgien", "urologue"),
    ),
    "pharmacien": Term("Pharmacien", ("pharmacienne", "pharmaciens", "pharmacien d'officine",
                                      "pharmacien titulaire")),
    "psychologue": Term("Psychologue", ("psychologues",)),
    "dieteticien": Term("Diététicien", ("diététicienne", "diététiciens")),
    "ergotherapeute": Term("Ergothérapeute", ("ergothérapeutes",)),
    "psychomotricien": Term("Psychomotricien", ("psychomotricienne", "psychomotriciens")),
    "assistant_medical": Term("Assistant médical", ("assistante médicale",)),
    # professions of the RPPS directory beside those followed
    "osteopathe": Term("Ostéopathe", ("ostéopathes",)),
    "psychotherapeute": Term("Psychothérapeute", ("psychothérapeutes",)),
    "audioprothesiste": Term("Audioprothésiste", ("audioprothésistes",)),
    "opticien": Term("Opticien-lunetier", ("opticien", "opticienne", "opticiens")),
    # trainees work in MSPs beside the professionals, but are not installed there
    "interne": Term("Interne ou étudiant", ("interne", "interne en médecine générale",
                                            "docteur junior", "externe", "étudiant",
                                            "étudiante", "stagiaire")),
}

# The stages of the ARS Nord-Pas-de-Calais census (seed 002): réflexion, a dynamic beginning;
# conception, a team writing its health project; opérationnalisation, the project filed with
# the ARS and the site being readied; fonctionnement, open. The synonyms are how other census
# files write the same stages ("labellisé" is not one: a labelled project may not be open yet).
STAGES: Vocabulary = {
    "reflexion": Term(
        "En réflexion",
        ("réflexion", "projet en réflexion", "en reflexion", "émergence", "en émergence",
         "projet émergent", "idée", "pré-projet", "début de dynamique", "phase de réflexion",
         "émergent", "émergente"),
        order=1,
    ),
    "conception": Term(
        "En conception",
        ("conception", "projet en conception", "en élaboration", "en cours d'élaboration",
         "élaboration du projet de santé", "rédaction du projet de santé",
         "phase de conception"),
        order=2,
    ),
    "operationnalisation": Term(
        "En cours d'opérationnalisation",
        ("en opérationnalisation", "opérationnalisation", "projet en opérationnalisation",
         "projet de santé déposé", "dossier déposé", "en cours d'instruction", "en instruction",
         "en cours d'ouverture", "en travaux", "en construction", "travaux",
         "projet déposé", "phase d'opérationnalisation"),
        order=3,
    ),
    "fonctionnement": Term(
        "En fonctionnement",
        ("fonctionnement", "opérationnel", "opérationnelle", "ouvert", "ouverte", "en activité",
         "fonctionnel", "fonctionnelle", "en service", "actif", "active",
         "phase de fonctionnement"),
        order=4,
    ),
}

STRUCTURE_TYPES: Vocabulary = {
    "MSP": Term(
        "Maison de santé pluriprofessionnelle",
        ("maison de santé", "maison de santé pluridisciplinaire", "maisons de santé",
         "maison de santé pluri-professionnelle", "MSP multisite", "MSP multi-sites",
         "MSP monosite", "MSP mono-site", "MSPU", "MSP universitaire",
         "maison de santé pluriprofessionnelle universitaire"),
    ),
    "PSP": Term(
        "Pôle de santé pluriprofessionnel",
        ("pôle de santé", "pôles de santé", "pôle de santé pluridisciplinaire",
         "pôle de santé libéral"),
    ),
    "CDS": Term("Centre de santé", ("centres de santé", "centre de santé pluriprofessionnel",
                                    "centre de santé polyvalent", "CDS polyvalent",
                                    "centre de santé pluridisciplinaire",
                                    # by who runs it
                                    "centre municipal de santé", "centre de santé municipal",
                                    "CDS municipal", "centre de santé associatif",
                                    "CDS associatif", "centre de santé mutualiste")),
    "CPTS": Term(
        "Communauté professionnelle territoriale de santé",
        ("communautés professionnelles territoriales de santé",),
    ),
}

for _name, _vocabulary in (
    ("PROFESSIONS", PROFESSIONS | OTHER_PROFESSIONS), ("STAGES", STAGES),
    ("STRUCTURE_TYPES", STRUCTURE_TYPES),
):
    _check_unique(
        {code: tuple(normalize_label(n) for n in (code, t.label, *t.synonyms))
         for code, t in _vocabulary.items()},
        _name,
    )
