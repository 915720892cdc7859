"""Match rules in the style of application-fraud systems.

One combined named read (``RULE_FACTS``) gathers, around one application, the facts every
rule needs; ``hits_from_facts`` (pure) turns them into rule codes with plain-words
reasons. Only applications submitted at or before the one being decided count, so a
decision sees what was known when it was made.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from graph.runner import Query, QueryRunner
from graph.schema import IDENTIFIER_RELS, Label, Rel
from lifecycle.errors import NotFound
from lifecycle.signals import Band, RuleHit

#: Rule code -> (band, short name). The reason text is written per hit.
RULES: dict[str, tuple[Band, str]] = {
    "R101": (Band.HIGH, "identity used at two or more dealers within 30 days"),
    "R102": (Band.MEDIUM, "contact phone is another applicant's own phone"),
    "R103": (Band.HIGH, "vehicle already financed"),
    "R104": (Band.HIGH, "device shared with a confirmed fraud case"),
    "R105": (Band.HIGH, "phone shared with a confirmed fraud case"),
    "R106": (Band.HIGH, "account shared with a confirmed fraud case"),
    "R107": (Band.MEDIUM, "payout account shared across applicants"),
    "R108": (Band.HIGH, "identifier on the watchlist"),
    "R109": (Band.MEDIUM, "device used by several applicants within 90 days"),
    "R110": (Band.LOW, "instalment above half the declared income"),
    "R111": (Band.HIGH, "identity of a confirmed fraud case"),
}

#: States of another application in which its vehicle counts as financed.
FINANCED_STATES = ("approved", "contracted", "disbursed", "current", "delinquent",
                   "charged_off")
#: Links through which sharing with a confirmed fraud case matters.
FRAUD_LINK_RELS = (Rel.APPLICANT_PHONE, Rel.CONTACT_PHONE, Rel.SUBMITTED_FROM_DEVICE,
                   Rel.REPAYMENT_ACCOUNT, Rel.APPLICANT)
DEVICE_VELOCITY_MIN = 2  # other applicants on one device within 90 days

A, P, PH = Label.APPLICATION.value, Label.PERSON.value, Label.PHONE.value
_EARLIER = "o <> a AND o.submitted_at <= a.submitted_at"
_ID_TYPES = "|".join(IDENTIFIER_RELS)
_FRAUD_TYPES = "|".join(FRAUD_LINK_RELS)
# An identifier linking more applications than the policy's hub cap (a dealer's kiosk
# tablet, an office network, a fleet company's account) is not evidence of anything.
# Counted from the typed degree, which Neo4j keeps per node (only applications hold
# identifier links), and tested before the identifier's applications are expanded: a
# kiosk tablet of 2,400 applications cost 4,800 reads when the count matched labels.
_NOT_HUB = f"COUNT {{ (n)<-[:{_ID_TYPES}]-() }} <= $hub_cap"

#: ``$application_ids``: one row per application found, in no particular order; the
#: decision of several applications together reads them in one statement.
RULE_FACTS_TEXT = f"""
UNWIND $application_ids AS app_id
MATCH (a:{A} {{application_id: app_id}})
OPTIONAL MATCH (a)-[:{Rel.APPLICANT}]->(me:{P})
RETURN a.application_id AS application_id, a.loan_amount AS loan_amount,
  a.term_months AS term_months, a.monthly_income AS monthly_income,
  COLLECT {{
    MATCH (me)<-[:{Rel.APPLICANT}]-(o:{A})
    WHERE {_EARLIER} AND o.dealer_id <> a.dealer_id
      AND duration.inDays(o.submitted_at, a.submitted_at).days <= 30
    RETURN DISTINCT o.dealer_id }} AS other_dealers,
  COLLECT {{
    MATCH (a)-[:{Rel.CONTACT_PHONE}]->(n:{PH}) WHERE {_NOT_HUB}
    MATCH (n)<-[:{Rel.APPLICANT_PHONE}]-(o:{A})
    WHERE {_EARLIER} AND NOT (o)-[:{Rel.APPLICANT}]->(me)
    RETURN DISTINCT o.application_id }} AS contact_is_applicant,
  COLLECT {{
    MATCH (a)-[:{Rel.FINANCES}]->(:{Label.VEHICLE})<-[:{Rel.FINANCES}]-(o:{A})
    WHERE {_EARLIER} AND (o.status IN $financed_states
                          OR EXISTS {{ (o)-[:{Rel.HAS_INSTALLMENT}]->() }})
    RETURN DISTINCT o.application_id }} AS vin_financed,
  COLLECT {{
    MATCH (a)-[:{_FRAUD_TYPES}]->(n) WHERE {_NOT_HUB}
    MATCH (n)<-[:{_FRAUD_TYPES}]-(o:{A})
    WHERE {_EARLIER} AND o.label = 'fraud'
    RETURN DISTINCT {{kind: labels(n)[0], application_id: o.application_id}} }} AS fraud_links,
  COLLECT {{
    MATCH (a)-[:{Rel.REPAYMENT_ACCOUNT}]->(n:{Label.BANK_ACCOUNT}) WHERE {_NOT_HUB}
    MATCH (n)<-[:{Rel.REPAYMENT_ACCOUNT}]-(o:{A})-[:{Rel.APPLICANT}]->(p:{P})
    WHERE {_EARLIER} AND p <> me
    RETURN DISTINCT p.key }} AS account_sharers,
  COLLECT {{
    MATCH (a)-->(n)<-[:{Rel.LISTS}]-(w:{Label.WATCHLIST_ENTRY})
    WHERE w.active
    RETURN DISTINCT {{kind: labels(n)[0], entry_id: w.entry_id}} }} AS watchlist,
  COLLECT {{
    MATCH (a)-[:{Rel.SUBMITTED_FROM_DEVICE}]->(n:{Label.DEVICE}) WHERE {_NOT_HUB}
    MATCH (n)<-[:{Rel.SUBMITTED_FROM_DEVICE}]-(o:{A})-[:{Rel.APPLICANT}]->(p:{P})
    WHERE {_EARLIER} AND p <> me
      AND duration.inDays(o.submitted_at, a.submitted_at).days <= 90
    RETURN DISTINCT p.key }} AS device_sharers
"""

#: The text is built from schema enums only; values travel as parameters.
RULE_FACTS = Query("lifecycle.rule_facts", RULE_FACTS_TEXT)


class RuleFacts(BaseModel):
    """The facts the rules read, as the combined query returns them."""

    application_id: str
    loan_amount: float | None = None
    term_months: int | None = None
    monthly_income: float | None = None
    other_dealers: list[str] = Field(default_factory=list)
    contact_is_applicant: list[str] = Field(default_factory=list)
    vin_financed: list[str] = Field(default_factory=list)
    fraud_links: list[dict[str, str]] = Field(default_factory=list)
    account_sharers: list[str] = Field(default_factory=list)
    watchlist: list[dict[str, str]] = Field(default_factory=list)
    device_sharers: list[str] = Field(default_factory=list)


def read_facts(runner: QueryRunner, application_id: str, hub_cap: int = 6) -> RuleFacts:
    """The rule facts around one application; identifiers shared by more than ``hub_cap``
    applications are left out of the sharing rules."""
    rows = runner.read(RULE_FACTS, application_ids=[application_id], hub_cap=hub_cap,
                       financed_states=list(FINANCED_STATES))
    if not rows:
        raise NotFound("application", application_id)
    return RuleFacts.model_validate(rows[0])


_KIND_WORDS = {Label.DEVICE.value: "device", Label.PHONE.value: "phone",
               Label.BANK_ACCOUNT.value: "bank account", Label.PERSON.value: "identity",
               Label.IP.value: "IP address", Label.VEHICLE.value: "vehicle",
               Label.ADDRESS.value: "address", Label.EMPLOYER.value: "employer"}
_FRAUD_CODE = {Label.DEVICE.value: "R104", Label.PHONE.value: "R105",
               Label.BANK_ACCOUNT.value: "R106", Label.PERSON.value: "R111"}


def _hit(code: str, reason: str, **evidence: Any) -> RuleHit:
    return RuleHit(code=code, band=RULES[code][0], reason=reason, evidence=evidence)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def hits_from_facts(facts: RuleFacts) -> list[RuleHit]:
    """Every rule that matches, in code order."""
    hits: list[RuleHit] = []
    if facts.other_dealers:
        n = len(facts.other_dealers)
        hits.append(_hit("R101", f"the same identity applied at {_plural(n, 'other dealer')} "
                                 "within 30 days", dealers=sorted(facts.other_dealers)))
    if facts.contact_is_applicant:
        hits.append(_hit("R102", "the emergency contact's phone is the own phone of another "
                                 "applicant", applications=sorted(facts.contact_is_applicant)))
    if facts.vin_financed:
        hits.append(_hit("R103", "the vehicle (VIN) is already financed by another loan",
                         applications=sorted(facts.vin_financed)))
    by_kind: dict[str, list[str]] = {}
    for link in facts.fraud_links:
        by_kind.setdefault(link["kind"], []).append(link["application_id"])
    for kind, apps in sorted(by_kind.items()):
        code = _FRAUD_CODE.get(kind)
        if code:
            hits.append(_hit(code, f"the {_KIND_WORDS.get(kind, kind)} was used by "
                                   f"{_plural(len(set(apps)), 'confirmed fraud case')}",
                             applications=sorted(set(apps))))
    if facts.account_sharers:
        n = len(facts.account_sharers)
        hits.append(_hit("R107", f"the repayment account is also given by "
                                 f"{_plural(n, 'other applicant')}", applicants=n))
    if facts.watchlist:
        kinds = sorted({_KIND_WORDS.get(w["kind"], w["kind"]) for w in facts.watchlist})
        hits.append(_hit("R108", f"on the watchlist: {', '.join(kinds)}",
                         entries=sorted({w["entry_id"] for w in facts.watchlist})))
    if len(facts.device_sharers) >= DEVICE_VELOCITY_MIN:
        n = len(facts.device_sharers)
        hits.append(_hit("R109", f"the device was used by {_plural(n, 'other applicant')} "
                                 "within 90 days", applicants=n))
    if facts.loan_amount and facts.term_months and facts.monthly_income:
        instalment = facts.loan_amount / facts.term_months
        if instalment > 0.5 * facts.monthly_income:
            hits.append(_hit("R110", f"the monthly instalment (about {instalment:,.0f} CNY) "
                                     "is above half the declared income",
                             instalment=round(instalment, 2)))
    return sorted(hits, key=lambda h: h.code)
