"""The clinical-advice guard: requests for medical advice are signposted, never answered from the documents.

The cluster's documents are about the health-technology sector, not anyone's care; a sentence from them offered as
advice about symptoms or treatment could harm. Rules, not a model: they are readable, testable and err towards
signposting.
"""

import re

CLINICAL_FLAG = "clinical_advice"
SIGNPOST = (
    "I can't give medical advice, and the cluster's documents are not a source of it. For advice about your "
    "health, please contact your GP or call NHS 111 (in an emergency, call 999)."
)

_MEDICAL = (
    r"symptoms?|pain|ache|aches|rash|lump|fever|cough|dizz\w*|bleed\w*|diagnos(?!tic)\w*|medication|medicines?|"
    r"drugs?|pills?|tablets?|dose|dosage|prescri\w*|treatments?|treat|therapy|cure|side[- ]effects?|"
    r"pregnan\w*|blood pressure|diabet\w*|cancer|tumou?r|infection|asthma|depress\w*|anxiety|injur\w*|"
    r"illness|disease|allerg\w*|vaccin\w*|antibiotics?|insulin|paracetamol|ibuprofen|surgery|operation|"
    r"swollen|swelling|temperature|vomit\w*|nausea|headaches?|breathless\w*|wheez\w*|itch\w*|bruis\w*|"
    # Medicines by the stems of their international names (ramipril, amlodipine, atorvastatin, azathioprine, …).
    r"\w+(?:pril|sartan|olol|dipine|statin|prazole|mycin|cillin|oxacin|thioprine|formin|triptan|oxetine|azepam)|"
    # Changing a medicine: "stop taking it", "come off", "keep using".
    r"(?:stop|start|keep|continue|carry on|come off|reduce|increase|double|skip)\s+(?:taking|using)"
)
_PATTERNS = [
    # First person with a medical term: "I have chest pain", "should I take ibuprofen", "my rash".
    re.compile(rf"\b(i|i'm|i've|my|me|should i|can i|do i|am i)\b.*\b({_MEDICAL})\b", re.I),
    re.compile(rf"\b({_MEDICAL})\b.*\b(i|i'm|i've|my|me)\b", re.I),
    # Asking what treats or cures a condition, for anyone.
    re.compile(
        r"\b(best|right|recommended|safest|good|effective)\s+(treatments?|medications?|medicines?|drugs?|"
        r"therapy|therapies|cure|dose|dosage)\b",
        re.I,
    ),
    re.compile(r"\bhow (do|can|should|to) (i |you |we |one )?(treat|cure|manage|get rid of)\b", re.I),
    re.compile(r"\b(what|which) (medication|medicine|drug|dose|pills?|tablets?)\b.*\b(take|use|give)\b", re.I),
    re.compile(r"\b(is it|is this) (serious|cancer|normal|an emergency)\b", re.I),
]


def is_clinical_advice_request(question: str) -> bool:
    """True when the question asks for personal medical advice or for treatment of a condition."""
    return any(p.search(question) for p in _PATTERNS)
