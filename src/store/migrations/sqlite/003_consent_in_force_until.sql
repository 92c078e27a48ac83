-- access/ loads a patient's card consents and restrictions in one query by their
-- "in-force-until" term (access/facts_store.cpp). Consents stored before it get the far future:
-- restrictions never lapse, and for card consents the decision still applies the exact
-- 24-hour window, so none that binds a decision is missed.
INSERT INTO search_index (patient_id, type, id, param, system, value)
SELECT DISTINCT patient_id, type, id, 'in-force-until', '', '9999-12-31T23:59:59.999Z'
FROM search_index
WHERE type = 'Consent' AND param = 'category' AND value IN ('card', 'restrictions');
