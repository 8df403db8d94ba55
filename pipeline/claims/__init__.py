"""Claims: who said what, the figures in it, and which outlets agree (pure helpers).

quotes.py       where quotation marks open and close (multi-paragraph, curly/straight/single)
cues.py         the attribution vocabulary: speech verbs, pronouns, role nouns
attribution.py  direct quotes and reported speech from a dependency parse
speakers.py     speaker surface form -> canonical entity (pronouns, roles, organisations)
figures.py      numbers inside a claim as structured values
grouping.py     the same statement across documents; conflicting figures
records.py      one flat record per claim for the claims indices
"""
