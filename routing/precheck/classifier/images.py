"""Whether a prompt talks about an image it comes with."""

from __future__ import annotations

from routing.precheck.classifier.rules import PromptView, _rule

_IMAGE_RULE = _rule(
    "needs_images",
    1.0,
    r"\b(?:(?:in|on|from|of|at|within|into)\s+(?:this|these|that|my|the|attached|uploaded|"
    r"above|below|following)\s+(?:attached\s+|uploaded\s+)?(?:image|images|picture|pictures|pic|"
    r"photo|photos|photograph|screenshot|screenshots|screen ?shot|scan|x-ray|meme)|"
    r"(?:in|on|from|of)\s+(?:this|these|that|my|attached|uploaded|above|below|following)\s+"
    r"(?:diagram|chart|graph|figure|drawing|sketch|whiteboard|slide)|"
    r"(?:attached|uploaded|enclosed|included)\s+(?:image|picture|photo|screenshot|diagram|chart|"
    r"graph|figure|scan)|(?:image|picture|photo|screenshot|diagram|chart|scan)\s+(?:attached|"
    r"above|below|i (?:sent|uploaded|attached|shared))|(?:look at|describe|analy[sz]e|caption|"
    r"transcribe|ocr)\s+(?:this|the|my)\s+(?:image|picture|photo|screenshot|diagram|chart|graph|"
    r"scan|receipt|handwriting)|what(?:'s| is) in (?:this|the) (?:image|picture|photo)|"
    r"what do you see|(?:en|de) (?:esta|la) (?:imagen|foto|captura)|imagen adjunta|"
    r"(?:auf|in) (?:diesem|dem) (?:bild|foto|screenshot)|im (?:angehängten |beigefügten )?"
    r"(?:bild|foto|screenshot)|dans (?:cette|l') ?(?:image|photo|capture)|(?:image|photo) "
    r"(?:ci-jointe|jointe)|in questa (?:immagine|foto)|nesta (?:imagem|foto)|"
    r"op deze (?:afbeelding|foto)|на (?:этой|этом) (?:фото|картинке|скриншоте|изображении))\b|"
    r"这张(?:图片|图|照片)|图片中|截图|この(?:画像|写真)|画像の",
)


def mentions_image(text: str) -> bool:
    return _IMAGE_RULE.fires(PromptView.of(text))
