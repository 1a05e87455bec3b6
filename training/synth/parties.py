"""Made-up parties: names, addresses, tax ids and bank accounts with valid check digits."""

import string
from dataclasses import dataclass, field

from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.at import uid as at_uid
from stdnum.be import vat as be_vat
from stdnum.ch import uid as ch_uid
from stdnum.de import vat as de_vat
from stdnum.es import ccc as es_ccc
from stdnum.es import cif as es_cif
from stdnum.es import nif as es_nif
from stdnum.fr import tva as fr_tva
from stdnum.gb import vat as gb_vat
from stdnum.it import iva as it_iva
from stdnum.nl import btw as nl_btw
from stdnum.pt import nif as pt_nif

# country -> (languages it writes in, default currency, legal forms)
COUNTRIES = {
    "GB": (("en",), "GBP", ["Ltd", "Limited", "PLC", "LLP"]),
    "US": (("en",), "USD", ["Inc.", "LLC", "Corp.", "Co."]),
    "AU": (("en",), "AUD", ["Pty Ltd", "Pty. Ltd."]),
    "CA": (("en",), "CAD", ["Inc.", "Ltd.", "Corp."]),
    "IN": (("en",), "INR", ["Pvt. Ltd.", "Private Limited", "LLP"]),
    "DE": (
        ("de",),
        "EUR",
        ["GmbH", "AG", "GmbH & Co. KG", "KG", "e.K.", "UG (haftungsbeschränkt)"],
    ),
    "AT": (("de",), "EUR", ["GmbH", "AG", "KG", "OG"]),
    "CH": (("de", "fr", "it"), "CHF", ["AG", "GmbH", "SA", "Sàrl"]),
    "FR": (("fr",), "EUR", ["SARL", "SAS", "SA", "EURL", "SASU"]),
    "BE": (("fr", "nl"), "EUR", ["SRL", "SA", "BV", "NV", "BVBA"]),
    "ES": (("es",), "EUR", ["S.L.", "S.A.", "S.L.U.", "S.Coop."]),
    "IT": (("it",), "EUR", ["S.r.l.", "S.p.A.", "S.n.c.", "S.a.s."]),
    "NL": (("nl",), "EUR", ["B.V.", "N.V.", "V.O.F."]),
    "PT": (("pt",), "EUR", ["Lda", "Lda.", "S.A.", "Unipessoal Lda"]),
}
LANGUAGE_COUNTRIES = {
    "en": ["GB", "GB", "US", "US", "AU", "CA", "IN"],
    "de": ["DE", "DE", "DE", "AT", "CH"],
    "fr": ["FR", "FR", "FR", "BE", "CH"],
    "es": ["ES"],
    "it": ["IT", "IT", "CH"],
    "nl": ["NL", "NL", "BE"],
    "pt": ["PT"],
}

SURNAMES = {
    "en": [
        "Smith",
        "Harper",
        "Whitfield",
        "Barrett",
        "Clarke",
        "Donovan",
        "Ellison",
        "Fletcher",
        "Granger",
        "Hollis",
        "Kendrick",
        "Marlow",
        "Prescott",
        "Ramsey",
        "Thornton",
        "Walsh",
    ],
    "de": [
        "Müller",
        "Schneider",
        "Weber",
        "Becker",
        "Hoffmann",
        "Krüger",
        "Wagner",
        "Lehmann",
        "Schulze",
        "Brandt",
        "Vogel",
        "Franke",
        "Seidel",
        "Kühn",
        "Haas",
        "Dietrich",
    ],
    "fr": [
        "Martin",
        "Bernard",
        "Dubois",
        "Lefèvre",
        "Moreau",
        "Laurent",
        "Girard",
        "Rousseau",
        "Fontaine",
        "Chevalier",
        "Garnier",
        "Perrin",
        "Masson",
        "Lambert",
        "Roux",
        "Brun",
    ],
    "es": [
        "García",
        "Fernández",
        "López",
        "Martínez",
        "Sánchez",
        "Romero",
        "Navarro",
        "Torres",
        "Ruiz",
        "Morales",
        "Ortega",
        "Delgado",
        "Castro",
        "Vidal",
        "Serrano",
        "Molina",
    ],
    "it": [
        "Rossi",
        "Russo",
        "Ferrari",
        "Esposito",
        "Bianchi",
        "Romano",
        "Colombo",
        "Ricci",
        "Marino",
        "Greco",
        "Bruno",
        "Gallo",
        "Conti",
        "De Luca",
        "Mancini",
        "Lombardi",
    ],
    "nl": [
        "de Jong",
        "Jansen",
        "de Vries",
        "van den Berg",
        "Bakker",
        "Visser",
        "Smit",
        "Meijer",
        "de Boer",
        "Mulder",
        "Bos",
        "Vos",
        "Peters",
        "Hendriks",
        "Dekker",
        "van Dijk",
    ],
    "pt": [
        "Silva",
        "Santos",
        "Ferreira",
        "Pereira",
        "Oliveira",
        "Costa",
        "Rodrigues",
        "Martins",
        "Sousa",
        "Fernandes",
        "Gonçalves",
        "Gomes",
        "Lopes",
        "Marques",
        "Almeida",
        "Ribeiro",
    ],
}
FIRST_NAMES = {
    "en": ["James", "Olivia", "Thomas", "Emma", "Daniel", "Sarah", "Michael", "Laura"],
    "de": ["Thomas", "Anna", "Stefan", "Julia", "Andreas", "Katrin", "Markus", "Sabine"],
    "fr": ["Pierre", "Camille", "Julien", "Claire", "Nicolas", "Sophie", "Antoine", "Léa"],
    "es": ["Javier", "Lucía", "Carlos", "Marta", "Pablo", "Elena", "Diego", "Carmen"],
    "it": ["Marco", "Giulia", "Luca", "Francesca", "Andrea", "Chiara", "Matteo", "Sara"],
    "nl": ["Jan", "Sanne", "Pieter", "Lotte", "Daan", "Eva", "Bram", "Fleur"],
    "pt": ["João", "Ana", "Pedro", "Inês", "Tiago", "Marta", "Rui", "Beatriz"],
}
TRADE_WORDS = {
    "en": [
        "Logistics",
        "Consulting",
        "Engineering",
        "Supplies",
        "Systems",
        "Print Works",
        "Digital",
        "Trading",
        "Facilities",
        "Electrical",
        "Timber",
        "Analytics",
        "Foods",
    ],
    "de": [
        "Haustechnik",
        "Logistik",
        "Maschinenbau",
        "Bürobedarf",
        "Elektro",
        "Holzbau",
        "Software",
        "Druckerei",
        "Handel",
        "Gebäudeservice",
        "Metallbau",
        "Feinkost",
    ],
    "fr": [
        "Logistique",
        "Conseil",
        "Bâtiment",
        "Fournitures",
        "Informatique",
        "Imprimerie",
        "Distribution",
        "Menuiserie",
        "Électricité",
        "Services",
        "Transports",
        "Traiteur",
    ],
    "es": [
        "Logística",
        "Consultoría",
        "Construcciones",
        "Suministros",
        "Informática",
        "Distribuciones",
        "Imprenta",
        "Instalaciones",
        "Transportes",
        "Alimentación",
    ],
    "it": [
        "Logistica",
        "Consulenze",
        "Costruzioni",
        "Forniture",
        "Informatica",
        "Tipografia",
        "Distribuzione",
        "Impianti",
        "Trasporti",
        "Alimentari",
        "Meccanica",
    ],
    "nl": [
        "Logistiek",
        "Advies",
        "Bouw",
        "Kantoorartikelen",
        "Installatietechniek",
        "Drukkerij",
        "Groothandel",
        "Transport",
        "Techniek",
        "Schoonmaak",
        "Houthandel",
    ],
    "pt": [
        "Logística",
        "Consultoria",
        "Construções",
        "Fornecimentos",
        "Informática",
        "Gráfica",
        "Distribuição",
        "Instalações",
        "Transportes",
        "Alimentar",
        "Metalomecânica",
    ],
}
BRAND_PARTS = [
    "Nord",
    "Alpha",
    "Vertex",
    "Linea",
    "Sol",
    "Terra",
    "Astra",
    "Nova",
    "Delta",
    "Orbis",
    "Prima",
    "Quanta",
    "Rivo",
    "Stella",
    "Vento",
    "Zenit",
    "Aurum",
    "Blau",
]

STREETS = {
    "GB": [
        "{n} High Street",
        "{n} Station Road",
        "{n} Church Lane",
        "Unit {n}, Mill Road",
        "{n} Victoria Road",
        "{n} Kingsway",
    ],
    "US": [
        "{n} Main Street",
        "{n} Oak Avenue",
        "{n} Market St.",
        "{n} Maple Drive",
        "{n} Industrial Pkwy, Suite {s}",
        "{n} Lincoln Blvd",
    ],
    "AU": ["{n} George Street", "{n} Collins St", "Level {s}, {n} Pitt Street"],
    "CA": ["{n} Queen Street West", "{n} Yonge St.", "{n} Rue Sainte-Catherine"],
    "IN": ["{n}, MG Road", "Plot {n}, Sector {s}", "{n} Nehru Place"],
    "DE": [
        "Hauptstraße {n}",
        "Bahnhofstr. {n}",
        "Industriestraße {n}",
        "Am Markt {n}",
        "Gartenweg {n}",
        "Lindenallee {n}a",
    ],
    "AT": ["Mariahilfer Straße {n}", "Linzer Gasse {n}", "Hauptplatz {n}"],
    "CH": ["Bahnhofstrasse {n}", "Seestrasse {n}", "Rue du Marché {n}", "Via Cantonale {n}"],
    "FR": [
        "{n} rue de la République",
        "{n}, avenue Jean Jaurès",
        "{n} boulevard Victor Hugo",
        "{n} rue des Lilas",
        "ZA des Cèdres, lot {n}",
    ],
    "BE": ["Rue Neuve {n}", "Kerkstraat {n}", "Avenue Louise {n}", "Stationsstraat {n}"],
    "ES": [
        "Calle Mayor, {n}",
        "Avda. de la Constitución, {n}",
        "C/ Alcalá {n}, {s}º",
        "Polígono Industrial Sur, nave {n}",
    ],
    "IT": [
        "Via Roma, {n}",
        "Corso Italia {n}",
        "Via Garibaldi {n}",
        "Piazza Duomo, {n}",
        "Viale dell'Industria {n}",
    ],
    "NL": [
        "Kerkstraat {n}",
        "Dorpsstraat {n}",
        "Stationsweg {n}",
        "Industrieweg {n}",
        "Keizersgracht {n}",
    ],
    "PT": [
        "Rua Augusta, {n}",
        "Avenida da Liberdade, {n}",
        "Rua do Comércio {n}",
        "Zona Industrial, Lote {n}",
    ],
}
# (postcode pattern, city); '#' a digit, 'A' a letter
CITIES = {
    "GB": [
        ("M# #AA", "Manchester"),
        ("LS# #AA", "Leeds"),
        ("BS# #AA", "Bristol"),
        ("EH# #AA", "Edinburgh"),
        ("NG# #AA", "Nottingham"),
    ],
    "US": [
        ("AUSTIN, TX 787##", ""),
        ("DENVER, CO 802##", ""),
        ("COLUMBUS, OH 432##", ""),
        ("Portland, OR 972##", ""),
        ("Raleigh, NC 276##", ""),
    ],
    "AU": [("Sydney NSW 2###", ""), ("Melbourne VIC 3###", ""), ("Brisbane QLD 4###", "")],
    "CA": [("Toronto, ON M#A #A#", ""), ("Calgary, AB T#A #A#", ""), ("Halifax, NS B#A #A#", "")],
    "IN": [("Bengaluru 560 0##", ""), ("Pune 411 0##", ""), ("New Delhi 110 0##", "")],
    "DE": [
        ("#####", "Berlin"),
        ("#####", "Hamburg"),
        ("#####", "Köln"),
        ("#####", "Leipzig"),
        ("#####", "Nürnberg"),
        ("#####", "Freiburg im Breisgau"),
    ],
    "AT": [("1###", "Wien"), ("4###", "Linz"), ("8###", "Graz"), ("5###", "Salzburg")],
    "CH": [("8###", "Zürich"), ("3###", "Bern"), ("1###", "Lausanne"), ("6###", "Lugano")],
    "FR": [
        ("75###", "Paris"),
        ("69###", "Lyon"),
        ("13###", "Marseille"),
        ("33###", "Bordeaux"),
        ("44###", "Nantes"),
        ("67###", "Strasbourg"),
    ],
    "BE": [("1###", "Bruxelles"), ("2###", "Antwerpen"), ("9###", "Gent"), ("4###", "Liège")],
    "ES": [
        ("28###", "Madrid"),
        ("08###", "Barcelona"),
        ("46###", "Valencia"),
        ("41###", "Sevilla"),
        ("48###", "Bilbao"),
    ],
    "IT": [
        ("20###", "Milano"),
        ("00###", "Roma"),
        ("10###", "Torino"),
        ("40###", "Bologna"),
        ("50###", "Firenze"),
    ],
    "NL": [
        ("1### AA", "Amsterdam"),
        ("3### AA", "Rotterdam"),
        ("3### AA", "Utrecht"),
        ("5### AA", "Eindhoven"),
    ],
    "PT": [
        ("1###-###", "Lisboa"),
        ("4###-###", "Porto"),
        ("3###-###", "Coimbra"),
        ("8###-###", "Faro"),
    ],
}
COUNTRY_NAMES = {
    "GB": "United Kingdom",
    "US": "USA",
    "AU": "Australia",
    "CA": "Canada",
    "IN": "India",
    "DE": "Deutschland",
    "AT": "Österreich",
    "CH": "Schweiz",
    "FR": "France",
    "BE": "Belgique",
    "ES": "España",
    "IT": "Italia",
    "NL": "Nederland",
    "PT": "Portugal",
}
PHONE_PREFIX = {
    "GB": "+44",
    "US": "+1",
    "AU": "+61",
    "CA": "+1",
    "IN": "+91",
    "DE": "+49",
    "AT": "+43",
    "CH": "+41",
    "FR": "+33",
    "BE": "+32",
    "ES": "+34",
    "IT": "+39",
    "NL": "+31",
    "PT": "+351",
}
# IBAN: BBAN pattern per country ('#' digit, 'A' letter)
BBAN = {
    "DE": "##################",
    "AT": "################",
    "CH": "#################",
    "FR": "#######################",
    "BE": "############",
    "ES": "####################",
    "IT": "A######################",
    "NL": "AAAA##########",
    "PT": "#####################",
    "GB": "AAAA##############",
}
VAT_MODULE = {
    "DE": de_vat,
    "AT": at_uid,
    "CH": ch_uid,
    "FR": fr_tva,
    "BE": be_vat,
    "ES": es_nif,
    "IT": it_iva,
    "NL": nl_btw,
    "PT": pt_nif,
    "GB": gb_vat,
}


@dataclass
class Party:
    name: str
    country: str
    address_lines: list[str]
    tax_id: str | None
    tax_id_printed: str | None  # as printed (with spaces/dots where the country's style has them)
    email: str
    phone: str
    contact: str
    iban: str | None = None
    iban_printed: str | None = None
    bic: str | None = None
    bank_name: str | None = None
    register: str | None = None
    extra: dict = field(default_factory=dict)


def _pattern(rng, pattern):
    return "".join(
        str(rng.randint(0, 9))
        if c == "#"
        else rng.choice(string.ascii_uppercase)
        if c == "A"
        else c
        for c in pattern
    )


def _valid_vat(rng, country):
    """A tax id that passes its country's check digit (some bodies have none: draw again)."""
    for _ in range(20):
        candidate = _vat_candidate(rng, country)
        if candidate:
            return candidate
    return None


def _vat_candidate(rng, country):
    digits = lambda k: "".join(str(rng.randint(0, 9)) for _ in range(k))  # noqa: E731
    module = VAT_MODULE[country]
    if country == "DE":
        candidates = (f"DE{rng.randint(1, 9)}{digits(7)}{d}" for d in range(10))
    elif country == "AT":
        candidates = (f"ATU{digits(7)}{d}" for d in range(10))
    elif country == "CH":
        candidates = (f"CHE{digits(8)}{d}" for d in range(10))
    elif country == "FR":
        siren = digits(8)
        siren += luhn.calc_check_digit(siren)
        candidates = [f"FR{(12 + 3 * (int(siren) % 97)) % 97:02d}{siren}"]
    elif country == "BE":
        body = "0" + str(rng.randint(2, 9)) + digits(6)
        candidates = (f"BE{body}{k:02d}" for k in range(100))
    elif country == "ES":
        body = rng.choice("ABG") + digits(7)
        candidates = [f"ES{body}{es_cif.calc_check_digits(body)[0]}"]
    elif country == "IT":
        body = f"{rng.randint(1, 9)}{digits(6)}{rng.randint(1, 100):03d}"
        candidates = (f"IT{body}{d}" for d in range(10))
    elif country == "NL":
        body = digits(8)
        candidates = (f"NL{body}{d}B0{rng.randint(1, 9)}" for d in range(10))
    elif country == "PT":
        body = str(rng.choice([5, 5, 5, 2, 1])) + digits(7)
        candidates = (f"PT{body}{d}" for d in range(10))
    elif country == "GB":
        body = str(rng.randint(1, 9)) + digits(6)
        candidates = [f"GB{body}{(-gb_vat.checksum(body + '00')) % 97:02d}"]
    else:
        return None
    for candidate in candidates:
        if module.is_valid(candidate):
            return candidate
    return None


def _printed_vat(rng, country, vat):
    if country == "GB" and rng.random() < 0.5:
        return f"GB {vat[2:5]} {vat[5:9]} {vat[9:]}"
    if country == "CH":
        return f"CHE-{vat[3:6]}.{vat[6:9]}.{vat[9:12]} {rng.choice(['MWST', 'TVA', 'IVA'])}"
    if country == "DE" and rng.random() < 0.2:
        return f"DE {vat[2:]}"
    return vat


def _iban_number(text):
    return int("".join(str(int(ch, 36)) for ch in text))


def _iban(rng, country):
    bban = _pattern(rng, BBAN[country])
    if country == "BE":  # national check: the first ten digits modulo 97
        bban = bban[:10] + f"{int(bban[:10]) % 97 or 97:02d}"
    elif country == "ES":
        bban = bban[:8] + es_ccc.calc_check_digits(bban) + bban[10:]
    for _ in range(50):
        check = 98 - _iban_number(bban + country + "00") % 97
        candidate = f"{country}{check:02d}{bban}"
        if stdnum_iban.is_valid(candidate):
            return candidate
        bban = _pattern(rng, BBAN[country])  # some countries add national check digits
    return None


def _email_slug(text):
    table = str.maketrans("äöüéèêëàâçîïôûùáíóúñãõ", "aoueeeeaaciiouuaiounao")
    slug = "".join(c for c in text.lower().translate(table) if c.isalnum())
    return slug[:18] or "info"


def make_party(rng, language, *, country=None, is_company=True):
    country = country or rng.choice(LANGUAGE_COUNTRIES[language])
    langs, _currency, legal_forms = COUNTRIES[country]
    lang = language if language in langs else langs[0]
    surname = rng.choice(SURNAMES[lang])
    style = rng.randrange(5)
    if not is_company:
        name = f"{rng.choice(FIRST_NAMES[lang])} {surname}"
    elif style == 0:
        name = f"{surname} {rng.choice(TRADE_WORDS[lang])} {rng.choice(legal_forms)}"
    elif style == 1:
        other = rng.choice(SURNAMES[lang])
        joiner = rng.choice([" & ", " + ", " und " if lang == "de" else " & "])
        name = f"{surname}{joiner}{other} {rng.choice(legal_forms)}"
    elif style == 2:
        brand = rng.choice(BRAND_PARTS) + rng.choice(BRAND_PARTS).lower()
        name = f"{brand} {rng.choice(TRADE_WORDS[lang])} {rng.choice(legal_forms)}"
    elif style == 3:
        name = f"{rng.choice(BRAND_PARTS)}{rng.choice(['tec', 'soft', 'line', 'pro', 'med'])} "
        name += rng.choice(legal_forms)
    else:
        name = f"{rng.choice(TRADE_WORDS[lang])} {surname} {rng.choice(legal_forms)}"
    street = rng.choice(STREETS[country]).format(n=rng.randint(1, 240), s=rng.randint(2, 30))
    postcode_pattern, city = rng.choice(CITIES[country])
    postcode = _pattern(rng, postcode_pattern)
    city_line = f"{postcode} {city}".strip() if city else postcode
    if country == "GB":
        city_line = f"{city}\n{postcode}" if rng.random() < 0.5 else f"{city} {postcode}"
    lines = [street, *city_line.split("\n")]
    if rng.random() < 0.35:
        lines.append(COUNTRY_NAMES[country])
    if rng.random() < 0.15 and is_company:
        att = {
            "en": "Attn.",
            "de": "z. Hd.",
            "fr": "À l'att. de",
            "es": "Att.",
            "it": "Alla c.a.",
            "nl": "T.a.v.",
            "pt": "A/C",
        }[lang]
        lines.insert(0, f"{att} {rng.choice(FIRST_NAMES[lang])} {surname}")
    tax_id = _valid_vat(rng, country) if country in VAT_MODULE else None
    if country == "US":
        tax_id = f"{rng.randint(10, 98)}-{rng.randint(1000000, 9999999)}"
    if country == "IN":
        tax_id = f"{rng.randint(10, 37)}{_pattern(rng, 'AAAAA####A')}1Z{rng.randint(1, 9)}"
    if country == "AU":
        tax_id = f"{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)} "
        tax_id += str(rng.randint(100, 999))
    domain = _email_slug(name.split()[0] + (name.split()[1] if len(name.split()) > 1 else ""))
    tld = {"GB": "co.uk", "US": "com", "AU": "com.au", "CA": "ca", "IN": "in"}.get(
        country, country.lower()
    )
    email = f"{rng.choice(['info', 'billing', 'accounts', 'office', 'invoices'])}@{domain}.{tld}"
    phone = f"{PHONE_PREFIX[country]} {rng.randint(10, 999)} {rng.randint(100000, 9999999)}"
    if rng.random() < 0.3:
        phone = f"0{rng.randint(10, 999)} {rng.randint(100000, 9999999)}"
    party = Party(
        name=name,
        country=country,
        address_lines=lines,
        tax_id=tax_id,
        tax_id_printed=_printed_vat(rng, country, tax_id) if tax_id else None,
        email=email,
        phone=phone,
        contact=f"{rng.choice(FIRST_NAMES[lang])} {surname}",
    )
    if country in BBAN:
        party.iban = _iban(rng, country)
        if party.iban:
            grouped = " ".join(party.iban[i : i + 4] for i in range(0, len(party.iban), 4))
            party.iban_printed = grouped if rng.random() < 0.7 else party.iban
            bank = rng.choice(
                [
                    "COBA",
                    "DEUT",
                    "BNPA",
                    "CAIX",
                    "UNCR",
                    "RABO",
                    "BCOM",
                    "BARC",
                    "INGB",
                    "SOGE",
                    "BBVA",
                    "ABNA",
                    "HSBC",
                    "GENO",
                    "NWBK",
                ]
            )
            party.bic = f"{bank}{country}{_pattern(rng, 'AA')}" + (
                _pattern(rng, "###") if rng.random() < 0.3 else ""
            )
            party.bank_name = rng.choice(
                [
                    "Commerzbank",
                    "Sparkasse",
                    "Crédit Agricole",
                    "Banco Santander",
                    "Intesa Sanpaolo",
                    "Rabobank",
                    "Millennium bcp",
                    "Barclays",
                    "ING",
                    "Volksbank",
                    "UBS",
                    "KBC",
                    "BNP Paribas",
                    "Lloyds Bank",
                ]
            )
    party.register = _pattern(
        rng,
        {
            "DE": "HRB #####",
            "AT": "FN ######a",
            "CH": "CHE-###.###.###",
            "GB": "########",
            "FR": "B ### ### ###",
            "BE": "0###.###.###",
            "ES": "Tomo ####, Folio ##, Hoja M-#####",
            "IT": "MI-#######",
            "NL": "########",
            "PT": "#########",
            "US": "#######",
        }.get(country, "######"),
    ).replace("a", rng.choice("abdfg"))
    return party
