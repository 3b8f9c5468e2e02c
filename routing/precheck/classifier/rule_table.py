"""The task-type rule table and the verdict drawn from it."""

from __future__ import annotations

from routing.precheck.classifier.base import RULE_MARGIN, RULE_THRESHOLD, Verdict
from routing.precheck.classifier.rules import (
    _CODE_WORDS,
    _PROG,
    _SOURCE,
    _START,
    PromptView,
    Rule,
    _langs,
    _rule,
    is_small_talk,
)

# A wh-question about code or tooling is a coding question, not general knowledge; one about a
# quoted text it introduces (a colon, "this sentence: ...") asks something of that text. A title
# in quotes is still general knowledge.
_NOT_GENERAL_KNOWLEDGE = (
    _PROG + r"|\b(?:sql|git|\.?gitignore|regex|docker|api|json)\b|"
    # a question about quoted text asks something of that text (translate, label, extract)
    r"(?::|\b(?:saying|sentence|phrase|word|review|message|text|tweet|email|comment|line))\s*"
    r"[\"“«„']"
)

RULES: tuple[Rule, ...] = (
    # coding
    _rule(
        "coding",
        0.97,
        r"traceback \(most recent call last\)|exception in thread \"|segmentation fault|"
        r"core dumped|npm err!|\b(?:at [\w$.<>]+\([\w$]+\.(?:java|kt|scala|groovy):\d+\)|"
        r"error\[e\d{4}\]|file \"[^\"\n]+\", line \d+|stack ?trace)",
    ),
    _rule("coding", 0.9, r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:Error|Exception)\b", lowered=False),
    _rule("coding", 0.9, r"```"),
    _rule(
        "coding",
        0.95,
        _START + r"(?:write|implement|code|create|build|generate|make|give me|show me|add|fix|"
        r"debug|refactor|optimi[sz]e|rewrite|port|convert|design)\b[^.?!\n]{0,60}?\b(?:function|"
        r"method|class|regex|regular expression|sql|query|unit tests?|tests (?:for|with)|api|"
        r"endpoint|decorator|hook|component|algorithm|module|cli|dockerfile|makefile|one-liner|"
        r"snippet|code(?! of conduct)|program|script (?:that|to)|shell script|bash script|"
        r"python script|type hints|schema|migration|handler|interpreter|parser|crawler|resolver|"
        r"workflow|service layer)\b",
    ),
    _rule("coding", 0.94, _PROG, requires=_CODE_WORDS),
    _rule(
        "coding",
        0.9,
        r"(?:^|[\s;{(])(?:def \w+\(|class \w+(?:\(|:| extends| implements| \{)|import [\w.]+"
        r"(?:;|$| as )|from [\w.]+ import |function \w*\s*\(|const \w+ ?=|let \w+ ?=|var \w+ ?=|"
        r"public (?:static |final )*(?:void|class|int|String|boolean)\b|#include ?<|console\.log\(|"
        r"System\.out\.print|printf\(|fn \w+\(|func \w+\(|=> ?\{|SELECT\b.{1,120}?\bFROM\b|"
        r"INSERT INTO\b|CREATE TABLE\b|UPDATE \w+ SET\b|<\?php|\$_(?:GET|POST)\b)",
        lowered=False,
    ),
    _rule(
        "coding",
        0.92,
        r"\b(?:git (?:commit|rebase|merge|push|pull|stash|checkout|branch|reset|cherry-pick|"
        r"bisect|clone)|docker(?:file|-compose| compose| run| build)|kubectl|pip install|"
        r"npm (?:install|run|i)|yarn add|github actions|regex|regular expression|vs ?code|jupyter|"
        r"webpack|debug|refactor|fix (?:this|the|my) (?:bug|code|function|script|query|loop|"
        r"error|test)|(?:compile|compiler|runtime|syntax) error|unit tests?|n\+1 quer|"
        r"time complexity|list comprehension|(?:for|while) loop|(?:with|using|via) (?:pip|npm|"
        r"conda|brew|apt))\b",
    ),
    _rule(
        "coding",
        0.92,
        r"\bthis (?:code|function|snippet|script|query|loop|method|class|program)\b[^.?!]{0,30}"
        r"\b(?:is|does|doesn't|won't|throws|returns|keeps|crashes|segfaults|fails|never|leaks|"
        r"hangs)\b",
    ),
    _rule(
        "coding",
        0.95,
        r"\b(?:escribe|escriba|implementa|schreibe|schreib|implementiere|écris|écrivez|"
        r"implémente|scrivi|escreva|implemente|schrijf|напиши|реализуй)\b[^.?!\n]{0,50}?"
        r"(?:funci[óo]n|funktion|fonction|funzione|fun[çc][ãa]o|functie|функци|skript|script|"
        r"programa|programm|requ[êe]te sql|consulta sql|sql-abfrage|query|clase|klasse|класс|"
        r"c[óo]digo|codice)",
    ),
    _rule(
        "coding",
        0.95,
        r"(?:写|实现|编写)[^。？！\n]{0,20}(?:函数|程序|代码|脚本|类|算法|接口)|"
        r"用\s?(?:python|java|go|rust|c\+\+|javascript|js|typescript|sql)|"
        r"(?:関数|コード|プログラム|スクリプト)を(?:書|作|実装)",
    ),
    _rule(
        "coding",
        0.96,
        r"\b(?:translate|convert|port|rewrite|transpile)\b[^\n]{0,120}?\b(?:in)?to\s+" + _PROG,
    ),
    # math
    _rule(
        "math",
        0.95,
        r"^(?:what(?:'s| is)|calculate|compute|evaluate|simplify|solve|work out|quick one:?)\s*"
        r"[-+(]?\d[\d\s.,()]*(?:[-+*/×÷^x%]|\*\*|times|plus|minus|divided by|multiplied by|"
        r"to the power of)\s*[-(]?\d",
    ),
    _rule(
        "math", 0.88, r"(?<![\d/.])\d+(?:\.\d+)?\s*(?:[*/×÷^]|\*\*)\s*\(?\d+(?:\.\d+)?\b(?![/.]\d)"
    ),
    _rule("math", 0.9, r"(?<![\w])\d*[xyz](?:\^\d)?\s*[-+*/=]\s*\d"),
    _rule(
        "math",
        0.93,
        r"\b(?:solve (?:for [a-z]\b|the (?:equation|system|inequality|integral|differential)|"
        r"\S+\s*=)|derivative|antiderivative|integral|integrate|differentiate|eigen\w+|"
        r"determinant|matri(?:x|ces)|taylor series|differential equation|quadratic|polynomial|"
        r"logarithm|factorial|hypotenuse|pythagor\w+|greatest common divisor|"
        r"least common multiple|gcd|lcm|square root|cube root|sqrt|prime factori[sz]ation|"
        r"standard deviation|variance|expected (?:value|number)|binomial|inequality|"
        r"interior angles|perimeter|circumference|(?:area|volume) of (?:a|an|the) \w+|slope|"
        r"y-intercept|by induction|irrational|inflection points?|concave|newton's method|"
        r"decimal places|significant figures|probability (?:of|that)|"
        r"to (?:a )?(?:decimal|fraction|percentage)|how many (?:different |distinct )?(?:ways|"
        r"arrangements|combinations|permutations)|is \d+ (?:a )?(?:prime|divisible|even|odd|"
        r"perfect square)|how many \w+ (?:are )?(?:in|per)\b[^?]{0,30}\d)\b",
    ),
    _rule("math", 0.93, r"\d\s*(?:°|degrees )\s*(?:fahrenheit|celsius|[cf]\b)"),
    _rule("math", 0.88, r"\bprove (?:that|by)\b"),
    _rule("math", 0.94, r"\d+(?:[.,]\d+)?\s?%\s*(?:of|de|von|di|van|от)\s+[$€£]?\d"),
    _rule(
        "math",
        0.92,
        r"\b(?:how (?:many|much|long|far|fast|old)|what (?:is|was|will be|are) (?:the|her|his|"
        r"their|its) (?:total|average|final|new|remaining|original|combined|percentage|ratio|"
        r"cost|price|profit|speed|area|volume|perimeter|difference|sum|product|value|dimensions)|"
        r"what percent(?:age)?|at what time|what (?:is|was) (?:it|she|he|they) worth|"
        r"what are the numbers|cu[áa]nt[oa]s?|wie (?:viel|viele|lange)|combien|quant[oiae]s?|"
        r"hoeveel|hoe lang|сколько)\b|多少|几个|几小时|几天|几年|几岁|几次|いくつ|何個|何人|何円|"
        r"何分|何時間",
        requires=r"\d+(?:[.,]\d+)?\D+\d",
        unless=r"\baccording to\b|\bbased on (?:the|this)\b|\bpassage\b",
        max_chars=700,
    ),
    _rule(
        "math",
        0.93,
        r"\b(?:calcula\w*|calcule\w*|calcola\w*|berechne\w*|bereken\w*|resuelve|"
        r"r[ée]sou(?:s|dre|lvez)|risolvi|resolva|вычисли\w*|посчитай\w*|найдите|реши\w*|"
        r"derivada|ableitung|d[ée]riv[ée]e|derivata|производн\w*|ecuaci[óo]n|gleichung|"
        r"[ée]quation|equazione|equa[çc][ãa]o|vergelijking|уравнени\w*)\b|计算|解方程|导数|积分|"
        r"方程",
        requires=r"\d",
    ),
    # reasoning
    _rule(
        "reasoning",
        0.93,
        r"\b(?:riddle|puzzle|brain ?teaser|logic(?:al)? (?:problem|puzzle|question|grid)|"
        r"syllogism|knights? and knaves?|always lies|always tells? the truth|truth-?teller|"
        r"what comes next|comes next in|next (?:number|letter|term|shape|element)|"
        r"(?:number|letter) comes next|complete the (?:sequence|analogy|pattern|series)|"
        r"is to \w+ as \w+ is to|which (?:one )?(?:doesn't|does not) belong|odd one out|"
        r"is (?:this|the following|the) (?:argument|reasoning|deduction|inference)|"
        r"(?:argument|reasoning|deduction) (?:is )?(?:valid|sound|correct)|"
        r"does (?:the conclusion|it|this) (?:logically )?follow|conclusion follows|"
        r"logical (?:fallacy|fallacies|error|flaw)|fallac(?:y|ies)|"
        r"flaw in (?:this|the) (?:argument|reasoning)|monty hall|paradox|lateral thinking|"
        r"trick question|who (?:is|was) (?:lying|telling the truth|guilty)|who owns which|"
        r"(?:can|could) we conclude|necessarily (?:true|false|follow)|confounders?|"
        r"hidden assumptions?|acertijo|adivinanza|rätsel|logikrätsel|énigme|devinette|"
        r"indovinello|enigma|raadsel|загадк\w*|логическ\w* задач\w*|paradoxe|paradoja|"
        r"paradosso)\b|谜题|谜语|逻辑题|脑筋急转弯|なぞなぞ|パズル",
    ),
    _rule(
        "reasoning",
        0.91,
        r"\b(?:(?:estimate|roughly|approximately|ballpark|fermi)\b[^.?!]{0,50}\bhow (?:many|much|"
        r"long|far)|how many\b[^.?!]{3,60}\b(?:would fit|fit in(?:side)?)|how many\b[^.?!]{3,80}"
        r"\?\s*(?:try to )?explain your (?:answer|reasoning|estimate))\b",
    ),
    _rule(
        "reasoning",
        0.88,
        r"\b(?:what (?:would|might|could) (?:happen|have happened|change|the world look like|"
        r"life be like|be different)|how (?:would|might) [^.?!]{3,60} (?:have )?(?:developed|"
        r"differ(?:ed)?|changed?|be different)|what if|if [^.?!]{3,80}\bhad (?:never|not))\b",
    ),
    _rule(
        "reasoning",
        0.8,
        r"\b(?:step[- ]by[- ]step|reason (?:it )?(?:out|through|carefully)|explain your "
        r"(?:reasoning|logic)|show your reasoning|justify your answer|think (?:carefully|it "
        r"through|through)|walk (?:me )?through your (?:reasoning|logic|assumptions)|deduce|"
        r"work backward)\b",
    ),
    # summarization
    _rule(
        "summarization",
        0.96,
        _START + r"(?:summari[sz]e|sum (?:it )?up|recap|condense|boil (?:this|it|that) down|"
        r"shorten (?:this|it|the (?:text|article|email|passage|paragraph))|give me (?:a |the )?"
        r"(?:quick |short |brief )?(?:summary|gist|tl;dr|tldr|recap|short version|rundown|"
        r"cliffs?notes)|(?:write|provide|give|make|produce) (?:me )?(?:a |an )?(?:short |brief |"
        r"quick |concise |executive |one-sentence |one-paragraph |two-sentence |structured |"
        r"layered |combined )?(?:summary|abstract|recap)|tl;dr|tldr)",
    ),
    _rule(
        "summarization",
        0.92,
        r"\b(?:summari[sz]\w*|summary|tl;dr|tldr|key (?:points|takeaways|ideas)|main (?:points|"
        r"ideas|takeaways)|the gist|in a nutshell|short version|bottom line|cliffs?notes|"
        r"synopsis of (?:this|the (?:following|article|text|story)))\b",
    ),
    _rule(
        "summarization",
        0.95,
        r"\b(?:resume (?:esta|este|el|la|en|lo)|resúm\w+|resumir|resumen|resuma|"
        r"zusammen(?:fassen|fassung)|fass\w*\b[^.?!]{0,80}\bzusammen|r[ée]sum(?:e|ez) (?:ce|cet|"
        r"cette|le|la|les|en)|r[ée]sum[ée] (?:de|du)|riassum\w*|riassunto|sintetizza|samenvatt\w*|"
        r"vat\b[^.?!]{0,60}\bsamen|кратко (?:изложи|перескажи)|перескажи|резюм\w*|"
        r"подведи итог\w*|краткое (?:содержание|изложение))\b|总结|概括|摘要|归纳|要約|まとめて",
    ),
    # translation
    _rule(
        "translation",
        0.97,
        _langs(
            r"\btranslat\w*\b[\s\S]{0,300}?\b(?:into|to|in)\s+(?:(?:simplified|traditional|"
            r"brazilian|european|mexican|formal|informal|plain|modern|polite|casual)\s+)?<L>\b"
        ),
    ),
    _rule("translation", 0.95, _START + r"(?:translate|localize)\b"),
    _rule(
        "translation",
        0.93,
        _langs(
            r"\b(?:how (?:do|would|can|should) (?:you|i|we) say|what(?:'s| is) [\"“'][^\"”']{1,60}"
            r"[\"”'] in <L>|the <L> (?:word|term|phrase|expression) for|<L> for [\"“']|"
            r"(?:in|into) <L>,? (?:please|pls)|<L> please|put (?:this|it) (?:in|into) <L>|"
            r"i need (?:this|it) in <L>|render (?:this|it) in <L>|say [\"“'][^\"”']{1,60}"
            r"[\"”'] in <L>|what does [\"“'][^\"”']{1,60}[\"”'] mean in <L>)\b"
        ),
    ),
    _rule(
        "translation",
        0.96,
        r"\b(?:tradu[cz]\w*|tradu[ií]\w*|traduis\w*|traduire|traduza|traduzir|traduci|tradurre|"
        r"übersetz\w*|vertaal\w*|перевед\w*|перевести|перевод\w*)\b|翻译|翻譯|翻訳|译成|譯成|"
        r"訳して|に訳",
    ),
    # "how do you say ... in <language>" in the other languages the rules cover
    _rule(
        "translation",
        0.94,
        r"\b(?:c[oó]mo se dice|wie sagt man|was hei(?:ß|ss)t\b[^?\n]{1,60}\bauf|comment (?:dit-on|"
        r"dire|on dit)|как (?:сказать|будет)\b[^?\n]{0,60}\bпо-\w+)|用(?:英语|法语|德语|日语|"
        r"西班牙语|俄语|中文)怎么说",
    ),
    # creative writing
    _rule(
        "creative_writing",
        0.95,
        _START + r"(?:write|compose|draft|create|craft|pen|come up with|make up|give me|"
        r"generate|invent|rewrite)\b[^.?!\n]{0,60}?\b(?:poems?|poetry|haikus?|sonnet|limericks?|"
        r"ode|ballad|villanelle|verses?|rhymes?|stor(?:y|ies)|fable|fairy ?tale|tale|novel|"
        r"novella|chapter|flash[- ]fiction|fan[- ]?fiction|fanfic|song|lyrics|lullaby|rap|jingle|"
        r"screenplay|script for|play about|scene|monologue|dialogue|bedtime|slogan|tagline|toast|"
        r"eulogy|speech|vows|love letter|cover letter|letter|e-?mail|blog post|blog|essay|op-ed|"
        r"tweet|caption|(?:linkedin|instagram|social media|facebook) post|product description|"
        r"ad copy|advertisement|commercial|diary entry|journal entry|obituary|greeting card|"
        r"birthday message|message for|thank-you note|thank you note|note to|names? for|"
        r"backstory|villain|protagonist|(?:fictional|fantasy|imaginary) world|(?:rpg|fantasy|"
        r"story) setting|synopsis|outline for a (?:novel|story|screenplay|book)|pitch|joke|"
        r"holiday|campfire)\b",
        unless=r"(?<![\w+#])(?:python|javascript|typescript|java|sql|bash|c\+\+|function|"
        r"script that|code|html|css|regex)(?![\w+#])",
    ),
    _rule(
        "creative_writing",
        0.95,
        r"\b(?:escribe|escriba|schreib\w*|verfasse|dichte|écri[st]\w*|rédige\w*|scrivi|componi|"
        r"escreva|componha|schrijf|напиши|сочини|придумай)\b[^.?!\n]{0,50}?(?:poema|poes[ií]a|"
        r"cuento|historia|relato|canci[óo]n|f[áa]bula|gedicht|geschichte|märchen|lied|erzählung|"
        r"poème|histoire|conte|chanson|nouvelle|fable|favola|racconto|storia|canzone|conto|"
        r"hist[óo]ria|can[çc][ãa]o|verhaal|sprookje|стих\w*|рассказ\w*|сказк\w*|песн\w*|"
        r"истори\w*|поэм\w*)",
    ),
    _rule(
        "creative_writing",
        0.95,
        r"(?:写|创作|编)(?:一首|一篇|一个|一段|个)?[^。？！\n]{0,12}?(?:诗|故事|小说|歌词|童话|散文|"
        r"剧本)|(?:詩|俳句|物語|小説|短歌|童話|歌詞)を[^。]{0,10}(?:書|作)",
    ),
    # extraction
    _rule(
        "extraction",
        0.97,
        _START + r"(?:extract|pull out|pull|grab|get|find|list|identify|pick out|return|parse|"
        r"give me|what(?:'s| is| are)|which|scan)\b[^.?!\n]{0,50}?\b(?:e-?mails?(?: addresses)?|"
        r"email addresses|phone numbers?|dates?|names?|urls?|links|hashtags|mentions|entities|"
        r"named entities|organi[sz]ations|locations|places|cities|countries|addresses|amounts|"
        r"figures|prices|skus?|codes|isbns?|tracking numbers?|key-value pairs|fields|ingredients|"
        r"quantities|measurements|action items|keywords|deadlines|medications?|doses|dosages|"
        r"citations|authors|numbers|people quoted|time expressions)\b",
        requires=_SOURCE,
    ),
    _rule("extraction", 0.95, _START + r"extract\b|\bextract (?:all|every|each|the|any|key)\b"),
    _rule(
        "extraction",
        0.88,
        r"\b(?:(?:as|in|into|return(?:ing)?|output|valid) (?:a |an )?(?:json|csv|yaml|table)|"
        r"json (?:object|array|document|with (?:keys|fields)))\b",
        requires=_SOURCE,
    ),
    _rule("extraction", 0.93, r"\bparse (?:this|the following|these)\b[^.?!\n]{0,40}\binto\b"),
    _rule(
        "extraction",
        0.95,
        r"\b(?:extrae\w*|extraer|extrahier\w*|extrais|extraire|extrayez|estrai\w*|estrarre|"
        r"extraia|extrair|entnimm|haal\b[^.?!]{0,40}\buit|извлеки|извлечь|выпиши)\b|提取|抽取|"
        r"抽出|抜き出",
    ),
    # classification
    _rule("classification", 0.97, r"\b(?:classify|categori[sz]e)\b"),
    _rule("classification", 0.95, _START + r"(?:label|tag)\b"),
    _rule(
        "classification",
        0.93,
        r"\b(?:(?:label|tag|bucket|rate)\b[^.?!\n]{0,40}?\b(?:as|with (?:a|its|the|one)|into)|"
        r"sort (?:these|the following|each)\b[^.?!\n]{0,40}\binto|into the right "
        r"(?:bucket|category|group))\b",
    ),
    _rule(
        "classification",
        0.95,
        r"\b(?:sentiment|(?:positive|negative)(?:,| or| and)+ (?:negative|positive|neutral|mixed)|"
        r"spam or|or not spam|intent of|urgent or (?:not|routine)|fact or opinion|formal or "
        r"(?:informal|casual)|fake or genuine|clickbait|phishing attempt|relevant or not|"
        r"domestic or wild|which (?:category|class|department|genre|topic|bucket|team|section|"
        r"language) (?:does|do|is|should|would|fits)|(?:assign|give)\b[^.?!\n]{0,40}\b(?:topic|"
        r"category|categories|label|labels|class|priority|genre|star rating|department)|"
        r"(?:answer|reply|respond) with (?:just |only )?(?:one of|the label|the category|"
        r"the language name)|is (?:this|the following|it) (?:email|message|text|review|comment|"
        r"tweet|post|sms|sentence|headline)\b[^?]{0,30}\b(?:spam|toxic|positive|negative|"
        r"sarcastic|offensive|phishing|urgent|clickbait|fake|formal|informal))\b",
    ),
    _rule(
        "classification",
        0.95,
        r"\b(?:clasifica\w*|clasifique|klassifizier\w*|kategorisier\w*|classifica|classifique|"
        r"classe[rz]? (?:ce|cet|cette|ces|les|le|la|chaque)|deel\b[^.?!]{0,40}\bin als|"
        r"классифицир\w*|тональност\w*|категори\w*|sentimiento|bewerte die stimmung)\b|分类|分類|"
        r"归类|判断[^。？]{0,20}(?:情感|正面|负面|好评|差评)|(?:好评|正面)还是(?:差评|负面)|"
        r"ポジティブかネガティブ|に分類",
    ),
    # chat
    _rule(
        "chat",
        0.92,
        r"\b(?:how are you|how's (?:it going|your (?:day|week|weekend|monday))|how was your "
        r"(?:day|weekend)|what(?:'s| is) your name|who are you|who am i (?:talking|speaking) to|"
        r"are you (?:a robot|a bot|human|real|an ai|sentient|conscious|alive)|do you (?:have|like|"
        r"love|enjoy|ever|dream|get tired|think it's weird)|what do you (?:like|enjoy|do for fun)|"
        r"tell me about yourself|your favou?rite|let's (?:chat|talk|play)|can we (?:just )?"
        r"(?:talk|chat)|i(?:'m| am) (?:bored|lonely|so happy|so sad|feeling (?:a bit |so |really )?"
        r"(?:lonely|sad|down|bored|low|happy|great))|i feel (?:sad|lonely|down|bored|happy)|"
        r"keep me company|cheer me up|tell me a joke|make me laugh|did you miss me|"
        r"what are you up to|what would you do if you were|i just (?:finished|got|adopted|moved)|"
        r"i miss (?:my|him|her)|what should i (?:cook|eat|watch|read|name|wear)|should i (?:text|"
        r"tell|call|date|forgive|break up)|your (?:opinion|take|view)|what do you think|"
        r"me siento|estoy aburrid[oa]|cu[ée]ntame algo|podemos hablar|je m'ennuie|je me sens|"
        r"tu peux me faire rire|ich kann nicht schlafen|erzähl mir|mir ist langweilig|"
        r"ich fühle mich|mi tiri su|sono triste|estou com saudade|me conta|ik ben zenuwachtig|"
        r"ik verveel me|мне скучно|мне грустно|давай поговорим|поболтаем)\b|心情不太好|陪我聊|"
        r"聊聊天|寂しい|話そう",
    ),
    _rule(
        "chat",
        0.88,
        r"\b(?:pretend (?:you(?:'re| are)|to be|yourself)|act as (?:my|a|an)|role-?play|"
        r"imagine you(?:'re| are)|stay in character|take on the role|embrace the role|"
        r"play the role|speak like|talk like|from now on,? (?:you|speak|talk|answer))\b",
    ),
    # question answering
    _rule(
        "question_answering",
        0.87,
        r"^(?:what|who|whom|whose|when|where|which|why|how)\b[^\n]{2,250}\?\s*$",
        unless=r"\b(?:i|me|my|i'm|we|our|us|you|your)\b|" + _NOT_GENERAL_KNOWLEDGE,
        max_chars=300,
    ),
    _rule(
        "question_answering",
        0.87,
        r"^(?:¿\s*)?(?:qu[ée]|qui[ée]n(?:es)?|cu[áa]l(?:es)?|cu[áa]ndo|d[óo]nde|por qu[ée]|c[óo]mo|"
        r"was|wer|wann|wo|warum|wieso|weshalb|wie|welche[rsmn]?|qu'est-ce|qui|quand|où|pourquoi|"
        r"comment|quel(?:le)?s?|che|cosa|chi|quando|dove|perch[ée]|come|qual[ei]?|quem|onde|porque|"
        r"wat|wanneer|waar|waarom|hoe|welke|что|кто|когда|где|почему|зачем|как|какой|какая|какие|"
        r"сколько)\b[^\n]{2,250}[?？]\s*$",
        unless=r"\b(?:ich|mir|mich|du|dir|tu|vous|yo|tú|io|ti|eu|você|ik|jij|я|ты|вы|мне|меня)\b|"
        + _NOT_GENERAL_KNOWLEDGE,
        max_chars=300,
    ),
    _rule(
        "question_answering",
        0.84,
        r"(?:什么|谁|哪|为什么|为何|怎么|多少|多长|多高|多大|何|誰|どこ|いつ|なぜ|どう|どの)"
        r"[^。\n]{0,40}[?？]\s*$",
        max_chars=150,
    ),
    _rule(
        "question_answering",
        0.9,
        r"\b(?:according to (?:this|these|it)|(?:according to|based on) (?:the|this) (?:text|"
        r"passage|article|announcement|paragraph|story|report)|in the passage below)\b|"
        r"(?:^|\n)\s*question:",
    ),
    _rule(
        "question_answering",
        0.84,
        _START + r"(?:explain|describe|define|tell me (?:about|why|how|what)|what is meant by)\b",
    ),
)


def rule_verdict(view: PromptView) -> Verdict | None:
    """The confident rule's task type, or None when no rule fires or two task types compete."""
    if is_small_talk(view.lowered):
        return Verdict("chat", 0.97, "rules")
    scores: dict[str, float] = {}
    for rule in RULES:
        if rule.confidence > scores.get(rule.task_type, 0.0) and rule.fires(view):
            scores[rule.task_type] = rule.confidence
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    task_type, best = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if best < RULE_THRESHOLD or best - runner_up < RULE_MARGIN:
        return None
    return Verdict(task_type, best, "rules")
