"""Master data of the history: debtors and creditors, their names, and their changes."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from afas_pipeline.simulator import chart as c
from afas_pipeline.simulator.books import DAY, Party

if TYPE_CHECKING:
    from afas_pipeline.simulator.history import History

_PREFIXES = (
    "Bakkerij",
    "Installatiebedrijf",
    "Transportbedrijf",
    "Drukkerij",
    "Bouwbedrijf",
    "Hoveniersbedrijf",
    "Autobedrijf",
    "Schildersbedrijf",
    "Adviesbureau",
    "Groothandel",
    "Timmerfabriek",
    "Kaashandel",
    "Tandartspraktijk",
    "Architectenbureau",
    "Zeilmakerij",
)
_CORES = (
    "De Vries",
    "Jansen",
    "Van Dijk",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "De Boer",
    "Mulder",
    "De Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Van Leeuwen",
    "Dekker",
    "Brouwer",
    "De Wit",
    "Dijkstra",
    "Smits",
    "De Graaf",
    "Van der Meer",
    "Kok",
    "Jacobs",
    "Van den Berg",
    "Vermeulen",
    "Noorderlicht",
    "Zeeland",
    "Wadden",
    "Polderzicht",
    "Eemland",
    "Kennemer",
    "Veluwe",
)
_SUFFIXES = ("B.V.", "B.V.", "V.O.F.", "", "& Zn.", "Holding B.V.", "Groep B.V.")
_SUPPLIERS = (
    "KPN",
    "Vodafone Zakelijk",
    "Eneco",
    "Vattenfall",
    "Staples",
    "Lyreco",
    "Makro",
    "Sligro",
    "Bol.com Zakelijk",
    "Coolblue Zakelijk",
    "Shell Fleet",
    "LeasePlan",
    "Randstad",
    "Deloitte",
    "PostNL",
    "DHL Express",
    "Exact",
    "Microsoft Ireland",
    "Google Cloud",
    "Vastgoed Beheer",
)
# Suppliers abroad, with their legal form and country: their services are billed under
# reverse charge, from inside the EU (Ireland) or from outside it (Switzerland, the UK).
_SUPPLIERS_ABROAD = {
    "Microsoft Ireland": ("Operations Ltd.", "IE"),
    "Google Cloud": ("EMEA Ltd.", "IE"),
    "Proton": ("AG", "CH"),
    "Xero": ("(UK) Ltd.", "GB"),
}
# The creditors created as the 3rd, 6th, 10th and 12th are these, so every history has them
# (the two outside the EU only these).
_FIXED_SUPPLIERS = {
    60_003: "Microsoft Ireland",
    60_006: "Google Cloud",
    60_010: "Proton",
    60_012: "Xero",
}
# The two biggest suppliers number their invoices per year from 1 ("2026-0001"), so their
# numbers recur at each other: the same number at another creditor is no duplicate.
YEARLY_NUMBERING = 1
_YEARLY_SUPPLIERS = frozenset({60_001, 60_002})
# Every eighth debtor is abroad, on its own collect account: most in the EU (Belgium,
# Germany: intra-community supplies), some outside it (the UK, Switzerland: exports).
_ABROAD_EVERY = 8
_DEBTOR_COUNTRIES = {
    "BE": ("BV", "NV", "BVBA"),
    "DE": ("GmbH", "GmbH & Co. KG", "AG"),
    "GB": ("Ltd.", "PLC"),
    "CH": ("AG", "GmbH", "SA"),
}
_DEBTOR_COUNTRY_CHOICE = ("BE", "DE", "BE", "DE", "GB", "CH")
# The member states of the EU (ISO 3166 codes).
EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})  # fmt: skip
# The bank part of an IBAN per country: bank codes to choose from (none: digits only) and
# the number of digits that follow.
_BBAN = {
    "NL": (("ABNA", "INGB", "RABO", "TRIO", "KNAB", "BUNQ", "ASNB", "SNSB"), 10),
    "IE": (("AIBK", "BOFI", "IPBS"), 14),
    "GB": (("NWBK", "BARC", "HBUK", "LOYD"), 14),
    "BE": ((), 12),
    "DE": ((), 18),
    "CH": ((), 17),
}


def _iban(rng: random.Random, country: str = "NL") -> str:
    """A valid IBAN of `country` (ISO 13616 check digits)."""
    banks, digits = _BBAN[country]
    bban = (rng.choice(banks) if banks else "") + f"{rng.randrange(10**digits):0{digits}d}"
    number = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    return f"{country}{98 - int(number) % 97:02d}{bban}"


def _vat_number(rng: random.Random, country: str) -> str:
    if country == "NL":
        return f"NL{rng.randrange(10**9):09d}B01"
    if country == "BE":
        return f"BE0{rng.randrange(10**9):09d}"
    if country == "IE":
        return f"IE{rng.randrange(10**7):07d}{rng.choice('ABCDEFGHKLMNPRSTWX')}"
    if country == "GB":
        return f"GB{rng.randrange(10**8, 10**9)}"
    if country == "CH":  # the UID with its VAT suffix (MWST)
        return f"CHE{rng.randrange(10**8, 10**9)}MWST"
    return f"DE{rng.randrange(10**8, 10**9)}"


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())[:24] or "bedrijf"


def initial_parties(h: History) -> None:
    """The debtors and creditors that exist when the history starts."""
    rng = h.rng
    for side, count in (("D", h.n_debtors), ("C", h.n_creditors)):
        for _ in range(count):
            created = (h.start_day - rng.randint(30, 1500)) * DAY + rng.randrange(
                8 * 3600, 18 * 3600
            )
            modified = created + rng.randrange(0, 20 * DAY) if rng.random() < 0.3 else created
            new_party(h, side, created, min(modified, h.start_day * DAY - 1), prospect=False)


def new_party(h: History, side: str, created: int, modified: int, *, prospect: bool) -> Party:
    rng = h.rng
    number = h.books.next_party_number(side)
    name, country = _name(rng, side, number)
    style = YEARLY_NUMBERING if number in _YEARLY_SUPPLIERS else rng.randrange(4)
    party = Party(
        id=str(number),
        name=name,
        bcco=f"ORG{number:07d}",
        search=_slug(name)[:10].upper(),
        email=f"{'info' if side == 'D' else 'facturen'}@{_slug(name)}.{country.lower()}",
        iban=_iban(rng, country),
        vat_nr=_vat_number(rng, country),
        kvk=f"{rng.randrange(10**7, 10**8)}" if country == "NL" else None,
        collect=_collect_account(side, country),
        term=rng.choice(("14", "30", "30")),
        credit_limit=rng.choice((0, 5, 10, 25, 50)) * 100_000,
        blocked=False,
        created=created,
        modified=modified,
        prospect=prospect,
        country=country,
        style=style,
        counter=rng.randint(0, 200) if style == YEARLY_NUMBERING else rng.randint(100, 9_000),
    )
    (h.books.debtors if side == "D" else h.books.creditors)[party.id] = party
    (h.prospects if prospect else h.pools)[side].append(party.id)
    return party


def _name(rng: random.Random, side: str, number: int) -> tuple[str, str]:
    """The party's name and country."""
    if side == "C":
        supplier = _FIXED_SUPPLIERS.get(number) or rng.choice(_SUPPLIERS)
        if supplier in _SUPPLIERS_ABROAD:
            legal, country = _SUPPLIERS_ABROAD[supplier]
            return f"{supplier} {legal}", country
        legal = rng.choice(("B.V.", "Nederland B.V.", "N.V.", ""))
        return f"{supplier} {legal}".strip(), "NL"
    words = [rng.choice(_PREFIXES), rng.choice(_CORES)]
    if number % _ABROAD_EVERY == 3:
        country = rng.choice(_DEBTOR_COUNTRY_CHOICE)
        return " ".join([*words, rng.choice(_DEBTOR_COUNTRIES[country])]), country
    return " ".join(p for p in (*words, rng.choice(_SUFFIXES)) if p), "NL"


def _collect_account(side: str, country: str) -> str:
    if side == "D":
        return c.DEBTORS if country == "NL" else c.DEBTORS_ABROAD
    return c.CREDITORS if country == "NL" else c.CREDITORS_ABROAD


def region(party: Party) -> str:
    """Where the party is for VAT: "domestic", "eu" (another EU country) or "non_eu"."""
    if party.country == "NL":
        return "domestic"
    return "eu" if party.country in EU_COUNTRIES else "non_eu"


def pick(h: History, side: str) -> str:
    """A party to invoice: a few big customers and suppliers get most of the business."""
    pool, book = h.pools[side], h.books.debtors if side == "D" else h.books.creditors
    for _ in range(8):
        pid = pool[int(len(pool) * h.rng.random() ** 1.6)]
        if not book[pid].blocked:
            return pid
    return next(p for p in pool if not book[p].blocked)


def _changed(h: History, side: str, what: str) -> None:
    h.books.versions["debtors" if side == "D" else "creditors"] += 1
    h.books.stats[("debtors_" if side == "D" else "creditors_") + what] += 1


def ev_new_party(h: History, ts: int, side: str) -> None:
    new_party(h, side, ts, ts, prospect=h.rng.random() < 0.3)
    _changed(h, side, "added")


def ev_edit_party(h: History, ts: int, side: str) -> None:
    rng = h.rng
    book = h.books.debtors if side == "D" else h.books.creditors
    pool = h.pools[side]
    party = book[rng.choice(pool)]
    r = rng.random()
    if r < 0.35:
        party.email = (
            f"{rng.choice(('administratie', 'finance', 'boekhouding'))}@{_slug(party.name)}.nl"
        )
    elif r < 0.6:
        party.iban = _iban(rng, party.iban[:2])
    elif r < 0.95:
        party.credit_limit = rng.choice((0, 5, 10, 25, 50, 100)) * 100_000
    else:
        party.blocked = not party.blocked and sum(not book[p].blocked for p in pool) > 5
    party.modified = ts
    _changed(h, side, "changed")


def ev_del_party(h: History, ts: int, side: str) -> None:
    """A prospect that was never invoiced is removed (AFAS refuses to delete a used party)."""
    prospects = [p for p in h.prospects[side] if p not in h.books.used_parties]
    if not prospects:
        return
    pid = h.rng.choice(prospects)
    h.prospects[side].remove(pid)
    del (h.books.debtors if side == "D" else h.books.creditors)[pid]
    _changed(h, side, "deleted")
