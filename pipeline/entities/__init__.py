"""Entity canonicalisation: name rules, the gazetteer, within- and cross-document matching (pure).

names.py      what a name is: honorifics, possessives, folding, transliteration skeletons
gazetteer.py  places and organisations spaCy's small model gets wrong, preferred spellings
local.py      one document: spaCy mentions -> entities with one name each
matching.py   many documents: does this entity match one the registry already knows?
The Redis-backed registry that applies matching.py lives in pipeline/redis/entity_registry.py.

How the cross-document matching decides, and its thresholds: see matching.py.
Measured (2 shared cores, other jobs running):
  python bench/entities.py --orders 5   ECB+ dev pairwise F1 0.8866-0.8897 (mean 0.8884),
                                        precision >= 0.9921 in every arrival order
  python bench/ner_throughput.py --docs 150 --rounds 3
      spaCy 3788 words/s; stage without registry 3664 (+3.4% of spaCy's time);
      with the Redis registry 3433 (+10.3%)
"""
