"""French wording of the report: annexe 3's own labels, keyed by the JSON keys."""

from __future__ import annotations

SECTIONS = {
    "clientele": "1. Informations relatives à la clientèle du centre",
    "monthly": "2. Informations mensuelles relatives à l'activité du centre de santé",
    "origin": "Origine des assurés traités par le centre de santé",
    "acts": "3. Informations relatives aux actes effectués",
    "hospital_discharge": "Assurés pris en charge dans le cadre d'une sortie d'hospitalisation",
    "staff": "4. Informations relatives au personnel du centre",
    "means": "5. Moyens mis en œuvre par le centre optant",
    "permanence": "6. Moyens mis en œuvre pour la permanence des soins",
    "prevention": "7. Actions de prévention",
    "promotion": "8. Actions de promotion de la santé",
    "training": "9. Actions de formation",
    "forfait": "Forfait de coordination",
    "engagements": "Respect des engagements conventionnels",
    "quality": "Qualité des données",
}

CLIENTELE = {
    "insured_patients": "Nombre d'assurés pris en charge",
    "entries": "Nombre total d'entrées",
    "aged_75_plus": "Assurés âgés de plus de 75 ans",
    "aged_75_plus_isolated": "… dont personnes isolées",
    "active": "Assurés actifs (disposant d'une activité professionnelle)",
    "minors": "Assurés mineurs",
    "age_unknown": "Âge inconnu",
}

REASONS = {
    "acute": "Affection aiguë (hors maladie chronique)",
    "chronic": "Affection chronique (y compris les épisodes aigus)",
    "palliative": "Soins palliatifs",
}

MONTHLY = {
    "acute_patients": "Assurés pris en charge pour une affection aiguë",
    "acute_entries": "Entrées pour une affection aiguë",
    "chronic_patients": "Assurés pris en charge pour une affection chronique",
    "chronic_entries": "Entrées pour une affection chronique",
    "palliative_patients": "Assurés en soins palliatifs",
    "palliative_entries": "Entrées en soins palliatifs",
    "unattributed_patients": "Assurés non rattachés à une prise en charge",
}

MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip

REFERRAL_ORIGINS = {
    "hospital": "Hôpital",
    "general_practitioner": "Médecin généraliste",
    "specialist": "Médecin spécialiste",
    "had": "HAD (hospitalisation à domicile)",
    "ssiad": "SSIAD",
    "social_services": "Services sociaux",
    "self_or_family": "Le patient ou sa famille",
    "other": "Autre",
    "unknown": "Inconnue",
}

ACT_FAMILIES = {
    "AMI": "AMI",
    "AMX": "AMX (soins aux patients dépendants)",
    "AIS": "AIS",
    "DSI": "DSI / bilans de soins infirmiers",
    "IFD": "IFD",
    "IK": "IK",
    "night": "Majoration de nuit",
    "sunday_holiday": "Majoration de dimanche et jour férié",
    "other_majorations": "Autres majorations",
    "other_acts": "Autres actes (télésoin, téléconsultation assistée)",
}

ACT_FIELDS = {
    "count": "Nombre",
    "coefficient_total": "Nombre total de coefficients facturés à la caisse",
    "km": "Kilomètres facturés",
    "amount_eur": "Montant facturé (€)",
    "by_coefficient": "Ventilation par coefficient",
    "by_code": "Détail par code",
}

CARE_TYPES = {
    "palliative": "Soins palliatifs",
    "chemotherapy": "Chimiothérapie",
    "other": "Autre, à préciser",
    "unknown": "Non renseigné",
}

DURATION = {
    "total": "Durée totale (jours)",
    "mean": "Durée moyenne (jours)",
    "median": "Durée médiane (jours)",
    "min": "Durée minimale (jours)",
    "max": "Durée maximale (jours)",
}

QUALITY = {
    "unattributed_lines": "Lignes rattachées à aucune prise en charge (colonne « Assurés non "
    "rattachés »)",
    "unknown_episode_id": "Lignes citant une prise en charge inconnue pour ce patient "
    "(rattachées par la date)",
    "unknown_act_code": "Codes inconnus de la NGAP à la date de l'acte",
    "missing_coefficient": "Actes sans coefficient",
    "unexpected_coefficient": "Coefficients non prévus par la NGAP pour ce code "
    "(ex. AIS hors 3 et 4)",
    "amount_mismatch": "Montants différents de la valeur NGAP × coefficient × quantité",
    "night_majoration_daytime": "Majoration de nuit sur un acte réalisé de jour (8h–20h)",
    "night_majoration_wrong_code": "Majoration de nuit au mauvais code (N : 20h–23h et 5h–8h ; "
    "MM : 23h–5h)",
    "night_majoration_without_time": "Majoration de nuit sans heure de l'acte (non vérifiable)",
    "sunday_majoration_working_day": "Majoration de dimanche ou jour férié un jour ouvré",
    "sunday_majoration_saturday": "Majoration de dimanche un samedi (admise seulement pour un "
    "appel urgent à partir de 8h)",
    "unknown_patient": "Lignes d'un patient absent de l'export des patients",
    "patient_without_birth_date": "Patients sans date de naissance (comptés en « âge inconnu »)",
    "discharge_details_missing": "Sorties d'hospitalisation sans établissement, service ou type "
    "de prise en charge",
    "nurse_not_in_register": "Infirmières ayant facturé mais absentes du registre du centre",
    "registered_nurse_without_act": "Infirmières du registre sans aucun acte dans l'année",
}

BILLING_AUDIT_TITLE = "Audit de facturation — indicatif, à vérifier"

BILLING_AUDIT = {
    "amount_mismatch": "Montants différents de la valeur NGAP × coefficient × quantité "
    "(écart = attendu − facturé)",
    "mau_possibly_unbilled": "MAU peut-être oubliée : passage avec un seul acte AMI ou AMX de "
    "coefficient ≤ 1,5, sans MAU",
    "mau_not_justified": "MAU non justifiée : passage avec plusieurs actes ou un acte de "
    "coefficient > 1,5",
    "mie_possibly_unbilled": "MIE peut-être oubliée : passage d'un enfant de moins de 7 ans "
    "sans MIE",
    "mie_not_justified": "MIE non justifiée : passage d'un patient de 7 ans ou plus",
    "mci_possibly_unbilled": "MCI peut-être oubliée : passage en soins palliatifs sans MCI",
    "ais_after_bsi": "AIS facturés depuis le 3 octobre 2023 (le BSI couvre depuis tous les "
    "patients dépendants)",
}

BILLING_AUDIT_UNITS = {
    "amount_mismatch": "lines",
    "mau_possibly_unbilled": "visits",
    "mau_not_justified": "visits",
    "mie_possibly_unbilled": "visits",
    "mie_not_justified": "visits",
    "mci_possibly_unbilled": "visits",
    "ais_after_bsi": "lines",
}

COORDINATION_FEE = {
    "title": "Forfait de coordination facturé (CID, CIF)",
    "CID": "CID — forfait de coordination, début",
    "CIF": "CIF — forfait de coordination, fin",
}

UNITS = {
    "lines": "lignes",
    "patients": "patients",
    "nurses": "infirmières",
    "episodes": "entrées",
    "visits": "passages",
}

# Singular and plural of each unit (French: singular for 0 and 1).
UNIT_FORMS = {
    "lines": ("ligne", "lignes"),
    "patients": ("patient", "patients"),
    "nurses": ("infirmière", "infirmières"),
    "episodes": ("entrée", "entrées"),
    "visits": ("passage", "passages"),
    "insured": ("assuré", "assurés"),
}

# What each quality finding counts, whether or not it found anything (the JSON's `unit`
# falls back to lines when a check found nothing, which is wrong for nurses or patients).
QUALITY_UNITS = {
    "patient_without_birth_date": "patients",
    "nurse_not_in_register": "nurses",
    "registered_nurse_without_act": "nurses",
    "discharge_details_missing": "episodes",
}

# Sections beyond annexe 3, lettered after its numbered sections 1 to 9.
SUPPLEMENTS = {"forfait": "A", "engagements": "B", "quality": "C"}

MONTHS_SHORT = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin",
    "juil.", "août", "sept.", "oct.", "nov.", "déc.",
]  # fmt: skip

REASONS_SHORT = {
    "acute": "Affection aiguë",
    "chronic": "Affection chronique",
    "palliative": "Soins palliatifs",
    "unattributed": "Non rattachés",
}

ENGAGEMENT_STATUS = {"met": "respecté", "not_met": "non respecté", "unknown": "non renseigné"}

YOY = {
    "previous": "N-1",
    "change": "Évolution",
    "change_pct": "Évolution (%)",
    "none": "Pas de données de l'année précédente dans l'entrepôt : évolutions non calculées.",
    "partial": "Année précédente incomplète dans l'entrepôt ({months} mois sur 12 avec des "
    "actes) : évolutions à lire avec prudence.",
}

CHARTS = {
    "monthly_patients": "Assurés pris en charge chaque mois, par motif",
    "monthly_patients_note": "Un assuré pris en charge pour deux motifs compte dans chacun.",
    "monthly_entries": "Entrées chaque mois, par motif",
    "acts_by_family": "Nombre d'actes et de majorations par famille",
    "acts_by_coefficient": "Ventilation par coefficient (nombre d'actes)",
    "discharge_durations": "Durée des prises en charge après une sortie d'hospitalisation",
    "median": "médiane",
    "mean": "moyenne",
    "days": "jours",
}

KEY_FIGURES = {
    "insured_patients": "Assurés pris en charge",
    "entries": "Entrées",
    "ami": "Actes AMI",
    "discharge_patients": "Assurés sortis d'hospitalisation",
    "forfait": "Forfait de coordination",
    "engagements": "Engagements respectés",
    "quality": "Contrôles qualité à corriger",
}

XLSX_SHEETS = {
    "meta": "Centre",
    "clientele": "1 Clientèle",
    "monthly": "2 Mensuel",
    "origin": "2 Origine",
    "acts": "3 Actes",
    "acts_detail": "3 Actes (ventilation)",
    "hospital_discharge": "3 Sortie d'hospitalisation",
    "staff": "4 Personnel",
    "means": "5 Moyens",
    "permanence": "6 Permanence des soins",
    "prevention": "7 Prévention",
    "promotion": "8 Promotion de la santé",
    "training": "9 Formation",
    "forfait": "A Forfait",
    "engagements": "B Engagements",
    "quality": "C Qualité",
    "billing_audit": "C Audit de facturation",
    "inputs": "Sources",
}

# The roles of the register's nurses (schemas.register.Role).
ROLES = {
    "nurse": "infirmière",
    "coordinator": "infirmière coordinatrice",
    "manager": "infirmière d'encadrement",
}

PARTNER_NATURES = {
    "hospital": "Établissement de santé",
    "network": "Réseau de santé",
    "had": "HAD",
    "ssiad": "SSIAD",
    "ehpad": "EHPAD",
    "medico_social": "Établissement médico-social",
    "other": "Autre",
}

PREVENTION_LEVELS = {
    "national": "Actions de l'accord national",
    "regional": "Actions régionales",
    "local": "Actions locales",
}

TRAINING_KINDS = {
    "conventional": "Actions conventionnelles",
    "professional": "Formation professionnelle",
    "local": "Formation locale (structure contractante)",
}
