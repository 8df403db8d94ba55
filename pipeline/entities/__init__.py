"""Entity canonicalisation: name rules, the gazetteer, within- and cross-document matching (pure).

names.py      what a name is: honorifics, possessives, folding, transliteration skeletons
gazetteer.py  places and organisations spaCy's small model gets wrong, preferred spellings
local.py      one document: spaCy mentions -> entities with one name each
matching.py   many documents: does this entity match one the registry already knows?
The Redis-backed registry that applies matching.py lives in pipeline/adapters/entity_registry.py.
"""
