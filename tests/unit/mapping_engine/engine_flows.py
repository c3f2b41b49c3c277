"""Small inline flows and a deal for the engine tests (not a test module itself)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dealbridge.mapping.engine import FlowEngine
from dealbridge.mapping.lookups import LookupTables
from tests.support.cpq_deals import contact, deal, line, role
from tests.support.flows import flow_from_text

HEAD = """
flow: engine_test
version: 3
trigger: {when: opportunity.IsWon}
constants:
  record_type: customrecord_thing
  field_id: custrecord_thing_code
  offset_unit: MONTH
lookups:
  subsidiary:
    static: {values: {United States: 1}}
"""
CUSTOMER = """
  - name: customer
    type: customer
    external_id: "SFACC-{{ account.Id }}"
    source: {object: Account, id: "{{ account.Id }}"}
    fields:
      companyName: {value: account.Name, label: account name, rules: [{max_length: 20}]}
      subsidiary:
        ref: lookup('subsidiary', account.BillingCountry)
        rules: [{resolves: true}]
"""
CONTACTS = """
  - name: contact
    type: contact
    for_each: contacts
    as: person
    when: person.LastName != 'Skip'
    external_id: "SFCON-{{ person.Id }}"
    source: {object: Contact, id: "{{ person.Id }}"}
    fields:
      entityId: {value: "concat(person.FirstName, ' ', person.LastName)"}
      company: {record_ref: customer}
"""
PACKAGES = """
  - name: plan
    type: subscriptionPlan
    for_each: packages
    as: package
    external_id: "SFPLAN-{{ package.plan_key }}"
    source: {object: SBQQ__QuoteLine__c, id: "{{ package.line_id }}"}
    replace: [member]
    fields:
      itemId: {value: package.code}
      member:
        sublist:
          for_each: package.members
          as: member
          when: member.code != 'SSO'
          fields:
            lineNumber: {value: member.number}
            code: {value: member.code}
            unit: {value: const.offset_unit}
  - name: subscription
    type: subscription
    for_each: packages
    as: package
    external_id: "SFSUB-{{ package.line_id }}"
    source: {object: SBQQ__QuoteLine__c, id: "{{ package.line_id }}"}
    fields:
      customer: {record_ref: customer}
      subscriptionPlan: {record_ref: plan, record_ref_key: "'SFPLAN-' + package.plan_key"}
      subscriptionLine:
        sublist:
          for_each: package.one_time
          as: extra
          fields:
            lineNumber: {value: extra.number}
"""


def head_lookups() -> LookupTables:
    """The static table of ``HEAD``, as the loader normalises it."""
    return LookupTables({"subsidiary": {"united states": 1}}, folded=frozenset({"subsidiary"}))


def engine_for(tmp_path: Path, records: str, head: str = HEAD, **options: Any) -> FlowEngine:
    return FlowEngine(flow_from_text(head + "records:" + records, tmp_path), **options)


def bundle_deal(**options: Any) -> dict[str, Any]:
    top = line(1, "PLAT-PRO")
    lines = [top, line(2, "SEAT-STD", parent=top), line(3, "SSO", parent=top), line(4, "PLAT-STD")]
    people = [role(contact(1, "Dana", "Whitfield"), primary=True), role(contact(2, "Sam", "Skip"))]
    return deal(lines, roles=people, **options)


def by_key(plan: Any) -> dict[str, Any]:
    """The operations of a plan by ``type/external id``."""
    return {str(op.key): op for op in plan.operations}
