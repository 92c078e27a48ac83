#!/usr/bin/env python3
"""Writes the clinical golden bundles: valid/*.json (original test data for renkei, shaped
after the JP-CLINS guide; fictional patient) and invalid/<rule>.json, each derived from one
valid bundle by ONE change, with invalid/<rule>.expected.json naming the issues (element path
and rule id) the validator must report. The expectations are written here by hand from the
rules in JP-FHIR.md, not captured from the validator. Re-run after editing:
  python3 tests/clinical/make_bundles.py
"""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FAC = "1310000011"
PATIENT_URL = "urn:uuid:6a3c1d2e-0b7f-4c51-9d1a-2f3e4a5b6c7d"
INST = {
    "url": "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber",
    "valueIdentifier": {
        "system": "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no",
        "value": FAC,
    },
}
DEPT = {
    "url": "http://jpfhir.jp/fhir/eCS/Extension/StructureDefinition/JP_eCS_Department",
    "valueCodeableConcept": {
        "coding": [{"system": "http://jami.jp/SS-MIX2/CodeSystem/ClinicalDepartment",
                    "code": "01", "display": "内科"}],
        "text": "内科",
    },
}
ENCOUNTER = {
    "resourceType": "Encounter", "id": "enc", "status": "finished",
    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB",
              "display": "外来"},
}
PRACTITIONER = {
    "resourceType": "Practitioner", "id": "doc",
    "identifier": [{"system": "urn:oid:1.2.392.100495.20.3.41.1" + FAC, "value": "D100"}],
    "name": [{"text": "佐藤 一郎", "family": "佐藤", "given": ["一郎"]}],
}
FLAG = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication"
SUBJECT = {"reference": PATIENT_URL}


def patient():
    return {
        "resourceType": "Patient", "id": "pat",
        "identifier": [
            {"system": "urn:oid:1.2.392.100495.20.3.51.1" + FAC, "value": "P-00042"},
            {"system": "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID",
             "value": "01130012:ほけん:１２３４:01"},
        ],
        "name": [
            {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation",
                            "valueCode": "IDE"}],
             "text": "山田 花子", "family": "山田", "given": ["花子"]},
            {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation",
                            "valueCode": "SYL"}],
             "text": "ヤマダ ハナコ", "family": "ヤマダ", "given": ["ハナコ"]},
        ],
        "gender": "female", "birthDate": "1960-04-01",
    }


def bundle(kind, local_id, resources):
    entries = [{"fullUrl": PATIENT_URL, "resource": patient()}]
    for i, r in enumerate(resources):
        entries.append({"fullUrl": "urn:uuid:00000000-0000-4000-8000-%012d" % (i + 1), "resource": r})
    return {
        "resourceType": "Bundle",
        "meta": {
            "profile": ["http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS"],
            "tag": [{"system": "http://jpfhir.jp/fhir/clins/CodeSystem/BundleResourceType_CS",
                     "code": kind}],
        },
        "identifier": {"system": "http://jpfhir.jp/fhir/clins/bundle-identifier",
                       "value": "%s^2025^%s" % (FAC, local_id)},
        "type": "collection",
        "timestamp": "2025-06-01T10:00:00+09:00",
        "entry": entries,
    }


def condition(cid, code, text, status, onset, abatement=None, tags=None):
    r = {
        "resourceType": "Condition", "id": cid,
        "extension": [copy.deepcopy(INST), copy.deepcopy(DEPT)],
        "contained": [copy.deepcopy(ENCOUNTER)],
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": status}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                           "code": "confirmed"}]},
        "code": {"coding": [{"system": "http://medis.or.jp/CodeSystem/master-disease-keyNumber",
                             "code": code}], "text": text},
        "subject": copy.deepcopy(SUBJECT),
        "encounter": {"reference": "#enc"},
        "onsetDateTime": onset,
    }
    if abatement:
        r["abatementDateTime"] = abatement
    if tags:
        r["meta"] = {"tag": [{"system": FLAG, "code": t} for t in tags]}
    return r


def allergy(aid, system, code, text, category=None, tags=None):
    r = {
        "resourceType": "AllergyIntolerance", "id": aid,
        "extension": [copy.deepcopy(INST)],
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                       "code": "active"}]},
        "code": {},
        "patient": copy.deepcopy(SUBJECT),
        "recordedDate": "2025-05-01",
    }
    if system:
        r["code"]["coding"] = [{"system": system, "code": code}]
    if text:
        r["code"]["text"] = text
    if category:
        r["category"] = [category]
    if tags:
        r["meta"] = {"tag": [{"system": FLAG, "code": t} for t in tags]}
    return r


def observation(oid, local, jlac_system, jlac, text, value, tags=None):
    r = {
        "resourceType": "Observation", "id": oid,
        "extension": [copy.deepcopy(INST), copy.deepcopy(DEPT)],
        "contained": [copy.deepcopy(ENCOUNTER), copy.deepcopy(PRACTITIONER)],
        "status": "final",
        "category": [{"coding": [{"system": "http://jpfhir.jp/fhir/core/CodeSystem/JP_SimpleObservationCategory_CS",
                                  "code": "laboratory"}]}],
        "code": {"coding": [
            {"system": "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_LocalCode_CS", "code": local},
            {"system": jlac_system, "code": jlac}], "text": text},
        "subject": copy.deepcopy(SUBJECT),
        "encounter": {"reference": "#enc"},
        "effectiveDateTime": "2025-05-20T09:30:00+09:00",
        "performer": [{"reference": "#doc"}],
        "specimen": {"display": "血清"},
    }
    r.update(value)
    if tags:
        r["meta"] = {"tag": [{"system": FLAG, "code": t} for t in tags]}
    return r


CORE = "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS"
INFECTION = "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_InfectionLabo_CS"
YCM = "http://jpfhir.jp/fhir/core/CodeSystem/YCM/JP_JfagyMedicationAllergen_CS"
GCM = "http://jpfhir.jp/fhir/core/CodeSystem/GCM/JP_JfagyMedicationAllergen_CS"
FOOD = "http://jpfhir.jp/fhir/core/CodeSystem/JP_JfagyFoodAllergen_CS"

VALID = {
    "condition": bundle("Condition", "cond-0001", [
        condition("c1", "20058911", "狭心症", "active", "2024-01-10", tags=["UNINFORMED"]),
        condition("c2", "20064049", "十二指腸潰瘍", "resolved", "2023-03-01", "2023-09-30", tags=["LTS"]),
        condition("c3", "99999999", "原因不明の発熱", "active", "2025-05-01", tags=["UNDELIVERED"]),
    ]),
    "allergy": bundle("AllergyIntolerance", "alg-0001", [
        allergy("a1", YCM, "YCM1149019F1560", "ロキソニン錠", "medication", ["LTS"]),
        allergy("a2", GCM, "GCM2260701F1ZZZ", "ポビドンヨード含嗽用液", "medication"),
        allergy("a3", FOOD, "J9FC11310000", "さば", "food"),
        allergy("a4", None, None, "ラテックス手袋で発赤", "environment"),
        allergy("a5", FOOD, "D9F000000000", "食品（詳細不明）", "food"),
    ]),
    "observation": bundle("Observation", "lab-0001", [
        observation("o1", "L0001", CORE, "3A015000001827101", "アルブミン",
                    {"valueQuantity": {"value": 4.1, "unit": "g/dL"}}),
        observation("o2", "L0002", INFECTION, "5E071000002301101", "HBs抗原",
                    {"valueCodeableConcept": {"text": "陰性"}}, tags=["LTS"]),
        observation("o3", "L0003", CORE, "99999999999999999", "院内独自検査",
                    {"valueQuantity": {"value": 12, "unit": "U/L"}}),
    ]),
}
VALID["deletion"] = copy.deepcopy(VALID["condition"])
VALID["deletion"]["entry"] = VALID["deletion"]["entry"][:1]

INVALID = {}


def case(name, base, change, issues):
    b = copy.deepcopy(VALID[base])
    change(b)
    INVALID[name] = (b, issues)


def res(b, i):
    return b["entry"][i]["resource"]


E = "Bundle.entry[%d].resource"
case("bundle-type", "condition", lambda b: b.update(type="document"),
     [("Bundle.type", "renkei:bundle-type")])
case("bundle-profile", "condition",
     lambda b: b["meta"].update(profile=["http://example.org/StructureDefinition/Other"]),
     [("Bundle.meta.profile", "renkei:bundle-profile")])
case("bundle-resource-tag", "condition", lambda b: b["meta"]["tag"][0].update(code="MedicationRequest"),
     [("Bundle.meta.tag[0].code", "renkei:bundle-resource-tag")])
case("bundle-identifier", "condition",
     lambda b: b["identifier"].update(value=FAC + "^2019^cond-0001"),
     [("Bundle.identifier.value", "renkei:bundle-identifier")])
case("sender-facility", "condition",
     lambda b: res(b, 2)["extension"][0]["valueIdentifier"].update(value="1310000029"),
     [(E % 2 + ".extension[0].valueIdentifier.value", "renkei:sender-facility")])


def swap(b):
    b["entry"][0], b["entry"][1] = b["entry"][1], b["entry"][0]


case("first-entry-patient", "observation", swap,
     [(E % 0 + ".resourceType", "renkei:first-entry-patient"),
      (E % 1 + ".resourceType", "renkei:entry-resource-type")])
case("insured-person-id", "condition",
     lambda b: res(b, 0)["identifier"][1].update(value="1130012:ほけん:１２３４:01"),
     [(E % 0 + ".identifier[1].value", "renkei:insured-person-id")])
case("entry-resource-type", "condition",
     lambda b: b["entry"].__setitem__(2, copy.deepcopy(VALID["allergy"]["entry"][1])),
     [(E % 2 + ".resourceType", "renkei:entry-resource-type")])
case("reference-scope", "condition",
     lambda b: res(b, 1).update(asserter={"reference": "Practitioner/prac-13-hosp-physician-1"}),
     [(E % 1 + ".asserter.reference", "renkei:reference-scope")])
case("subject-patient", "observation", lambda b: res(b, 1).pop("subject"),
     [(E % 1 + ".subject", "renkei:subject-patient")])
case("institution-number", "allergy", lambda b: res(b, 3).pop("extension"),
     [(E % 3 + ".extension", "renkei:institution-number")])
case("local-id-facility", "allergy",
     lambda b: res(b, 0)["identifier"][0].update(system="urn:oid:1.2.392.100495.20.3.51.11310000029"),
     [(E % 0 + ".identifier[0].system", "renkei:local-id-facility")])
case("name-fullwidth-space", "observation",
     lambda b: res(b, 0)["name"][0].update(text="山田\u3000花子"),
     [(E % 0 + ".name[0].text", "renkei:name-fullwidth-space")])
case("flag-code", "condition", lambda b: res(b, 1)["meta"]["tag"][0].update(code="KEEP"),
     [(E % 1 + ".meta.tag[0].code", "renkei:flag-code")])
case("flag-placement", "allergy",
     lambda b: res(b, 1)["meta"]["tag"].append({"system": FLAG, "code": "UNINFORMED"}),
     [(E % 1 + ".meta.tag[1]", "renkei:flag-placement")])
case("flag-placement-lts-lab", "observation",
     lambda b: res(b, 1).update(meta={"tag": [{"system": FLAG, "code": "LTS"}]}),
     [(E % 1 + ".meta.tag[0]", "renkei:flag-placement")])
case("contained-encounter", "condition", lambda b: res(b, 3).pop("encounter"),
     [(E % 3 + ".encounter", "renkei:contained-encounter")])
case("department", "observation", lambda b: res(b, 2)["extension"].pop(1),
     [(E % 2 + ".extension", "renkei:department")])
case("condition-code", "condition",
     lambda b: res(b, 1)["code"]["coding"][0].update(system="http://hl7.org/fhir/sid/icd-10", code="I20.9"),
     [(E % 1 + ".code", "renkei:condition-code")])
case("condition-onset", "condition", lambda b: res(b, 1).pop("onsetDateTime"),
     [(E % 1 + ".onset", "renkei:condition-onset")])
case("condition-abatement", "condition", lambda b: res(b, 2).pop("abatementDateTime"),
     [(E % 2 + ".abatement", "renkei:condition-abatement")])
case("observation-performer", "observation", lambda b: res(b, 1).pop("performer"),
     [(E % 1 + ".performer", "renkei:observation-performer")])
case("observation-local-code", "observation", lambda b: res(b, 1)["code"]["coding"].pop(0),
     [(E % 1 + ".code.coding", "renkei:observation-local-code")])
case("observation-lab-code", "observation",
     lambda b: res(b, 1)["code"]["coding"][1].update(code="3A01500000182710"),
     [(E % 1 + ".code.coding", "renkei:observation-lab-code")])
case("allergy-drug-code", "allergy",
     lambda b: res(b, 1)["code"]["coding"][0].update(code="YCM1149019F1561"),
     [(E % 1 + ".code.coding[0].code", "renkei:allergy-drug-code")])
case("allergy-other-code", "allergy", lambda b: res(b, 4).__setitem__(
         "code", {"coding": [{"system": "http://example.org/local-allergen", "code": "X1"}]}),
     [(E % 4 + ".code", "renkei:allergy-other-code")])
case("placeholder-text", "condition", lambda b: res(b, 3)["code"].pop("text"),
     [(E % 3 + ".code.text", "renkei:placeholder-text")])


def write(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


for name, b in VALID.items():
    write(os.path.join(HERE, "valid", name + ".json"), b)
for name, (b, issues) in INVALID.items():
    write(os.path.join(HERE, "invalid", name + ".json"), b)
    write(os.path.join(HERE, "invalid", name + ".expected.json"), {
        "sender": FAC,
        "status": 422,
        "issues": [{"expression": e, "rule": r} for e, r in issues],
    })
print(len(VALID), "valid,", len(INVALID), "invalid")
