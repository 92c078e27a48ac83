#!/usr/bin/env python3
"""Writes the clinical document golden files: documents/*.json (original test documents for
renkei: a referral letter with a medication section and attachments, and a discharge summary
(HS039) built from the section list of JP-FHIR.md, since no public example exists), and
invalid-documents/<rule>.json, each ONE change away from a valid document, with
<rule>.expected.json naming the issues (path and rule id) written by hand from the rules.
Re-run after editing: python3 tests/clinical/make_documents.py
"""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SECTION = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section"
FAC_SYS = "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no"
U = "urn:uuid:7d2c0e3a-5b1f-4c6d-8e9f-%012d"
PAT, AUTHOR_ORG, AUTHOR_DOC, ADDR_ORG, COND, ALG, MED, PDF, DS, ENC = (U % i for i in range(1, 11))


def section(code, title, refs=()):
    s = {"title": title, "code": {"coding": [{"system": SECTION, "code": code}]}}
    if refs:
        s["entry"] = [{"reference": r} for r in refs]
    else:
        s["text"] = {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">特記事項なし</div>"}
    return s


def org(fac, name):
    return {"resourceType": "Organization", "identifier": [{"system": FAC_SYS, "value": fac}], "name": name}


PATIENT = {
    "resourceType": "Patient",
    "identifier": [{"system": "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID",
                    "value": "01130012:ほけん:１２３４:01"}],
    "name": [{"text": "山田 花子", "family": "山田", "given": ["花子"]}],
    "gender": "female", "birthDate": "1960-04-01",
}
DOCTOR = {"resourceType": "Practitioner", "name": [{"text": "佐藤 一郎", "family": "佐藤", "given": ["一郎"]}]}
CONDITION = {"resourceType": "Condition", "subject": {"reference": PAT},
             "code": {"coding": [{"system": "http://medis.or.jp/CodeSystem/master-disease-keyNumber",
                                  "code": "20058911"}], "text": "狭心症"}}
ALLERGY = {"resourceType": "AllergyIntolerance", "patient": {"reference": PAT},
           "code": {"text": "さば"}}
MEDREQ = {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
          "subject": {"reference": PAT},
          "medicationCodeableConcept": {"coding": [{"system": "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code",
                                                    "code": "2171014F1020"}], "text": "ニトロール錠５ｍｇ"},
          "dosageInstruction": [{"text": "1回1錠 1日3回 毎食後"}]}
PDF_REF = {"resourceType": "DocumentReference", "status": "current",
           "content": [{"attachment": {"contentType": "application/pdf", "title": "検査レポート.pdf",
                                       "data": "JVBERi0xLjQKJcOkw7zDtsOfCg=="}}]}
DS_REF = {"resourceType": "DocumentReference", "status": "current",
          "type": {"coding": [{"system": "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes",
                               "code": "18842-5"}]},
          "content": [{"attachment": {"contentType": "application/fhir+json", "title": "退院時サマリー",
                                      "data": "eyJyZXNvdXJjZVR5cGUiOiJCdW5kbGUifQ=="}}]}
ENCOUNTER = {"resourceType": "Encounter", "status": "finished",
             "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
             "subject": {"reference": PAT}, "period": {"start": "2025-04-01", "end": "2025-04-20"}}


def document(code, title, sections, extra):
    comp = {
        "resourceType": "Composition", "status": "final",
        "type": {"coding": [{"system": "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes", "code": code}]},
        "subject": {"reference": PAT}, "date": "2025-04-21T10:00:00+09:00",
        "author": [{"reference": AUTHOR_DOC}, {"reference": AUTHOR_ORG}],
        "custodian": {"reference": AUTHOR_ORG}, "title": title, "section": sections,
    }
    entries = [(U % 0, comp), (PAT, PATIENT), (AUTHOR_ORG, org("1310000011", "東京救急病院")),
               (AUTHOR_DOC, DOCTOR)] + extra
    return {
        "resourceType": "Bundle", "type": "document",
        "identifier": {"system": "http://jpfhir.jp/fhir/clins/bundle-identifier",
                       "value": "1310000011^2025^%s" % ("ref-0001" if code == "57133-1" else "ds-0001")},
        "timestamp": "2025-04-21T10:00:00+09:00",
        "entry": [{"fullUrl": u, "resource": copy.deepcopy(r)} for u, r in entries],
    }


VALID = {
    "referral": document("57133-1", "診療情報提供書", [
        section("920", "紹介元情報", [AUTHOR_ORG, AUTHOR_DOC]),
        section("910", "紹介先情報", [ADDR_ORG]),
        {"title": "構造情報", "code": {"coding": [{"system": SECTION, "code": "300"}]}, "section": [
            section("950", "紹介目的"),
            section("340", "傷病名・主訴", [COND]),
            section("510", "アレルギー・不耐性反応", [ALG]),
            section("430", "投薬指示", [MED]),
        ]},
        section("210", "添付情報", [PDF, DS]),
    ], [(ADDR_ORG, org("1310000029", "千代田診療所")), (COND, CONDITION), (ALG, ALLERGY),
        (MED, MEDREQ), (PDF, PDF_REF), (DS, DS_REF)]),
    # HS039 sections after JP-FHIR.md: diagnoses, present illness, history, allergies,
    # infections, medication, lab results; the stay as an inpatient Encounter.
    "discharge-summary": document("18842-5", "退院時サマリー", [
        section("340", "入院時診断", [COND]),
        section("360", "現病歴"),
        section("370", "既往歴"),
        section("510", "アレルギー・不耐性反応", [ALG]),
        section("520", "感染症情報"),
        section("430", "退院時処方", [MED]),
        section("620", "検査結果"),
    ], [(COND, CONDITION), (ALG, ALLERGY), (MED, MEDREQ), (ENC, ENCOUNTER)]),
}

INVALID = {}


def case(name, base, change, issues):
    b = copy.deepcopy(VALID[base])
    change(b)
    INVALID[name] = (base, b, issues)


C = "Bundle.entry[0].resource"


def comp(b):
    return b["entry"][0]["resource"]


def swap(b):
    b["entry"][0], b["entry"][1] = b["entry"][1], b["entry"][0]


case("doc-bundle-type", "referral", lambda b: b.update(type="collection"), [("Bundle.type", "renkei:doc-bundle-type")])
case("doc-identifier", "discharge-summary", lambda b: b.pop("identifier"), [("Bundle.identifier", "renkei:doc-identifier")])
case("doc-timestamp", "referral", lambda b: b.pop("timestamp"), [("Bundle.timestamp", "renkei:doc-timestamp")])
case("doc-composition-first", "referral", swap, [(C + ".resourceType", "renkei:doc-composition-first")])
case("doc-type", "discharge-summary", lambda b: comp(b)["type"]["coding"][0].update(code="57133-1"),
     [(C + ".type", "renkei:doc-type")])
case("doc-status", "referral", lambda b: comp(b).update(status="preliminary"), [(C + ".status", "renkei:doc-status")])
case("doc-subject", "discharge-summary", lambda b: comp(b).update(subject={"reference": AUTHOR_DOC}),
     [(C + ".subject", "renkei:doc-subject")])
case("doc-author", "referral", lambda b: comp(b).pop("author"), [(C + ".author", "renkei:doc-author")])
case("doc-reference", "discharge-summary",
     lambda b: comp(b)["section"][1].update(entry=[{"reference": U % 99}]),
     [(C + ".section[1].entry[0].reference", "renkei:doc-reference")])
case("doc-addressee", "referral", lambda b: comp(b)["section"].pop(1), [(C + ".section", "renkei:doc-addressee")])
case("doc-no-addressee", "discharge-summary",
     lambda b: comp(b)["section"].append(section("910", "紹介先情報", [AUTHOR_ORG])),
     [(C + ".section", "renkei:doc-no-addressee")])
case("doc-attachment-type", "referral",
     lambda b: b["entry"][8]["resource"]["content"][0]["attachment"].update(contentType="application/x-msdownload"),
     [("Bundle.entry[8].resource.content[0].attachment.contentType", "renkei:doc-attachment-type")])


def write(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


for name, b in VALID.items():
    write(os.path.join(HERE, "documents", name + ".json"), b)
for name, (base, b, issues) in INVALID.items():
    write(os.path.join(HERE, "invalid-documents", name + ".json"), b)
    write(os.path.join(HERE, "invalid-documents", name + ".expected.json"), {
        "document_type": "referral" if base == "referral" else "discharge-summary",
        "status": 422,
        "issues": [{"expression": e, "rule": r} for e, r in issues],
    })
print(len(VALID), "valid,", len(INVALID), "invalid")
