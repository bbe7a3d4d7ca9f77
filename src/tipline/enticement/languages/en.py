"""English: slang normalisation, the transparent tactic rules, context cues and age statements."""

from __future__ import annotations

import re
from typing import ClassVar

from tipline.enticement.languages.base import LanguagePack

_APPS = r"(?:snapchat|snap|telegram|kik|whatsapp|signal|wickr|session|threema|discord|insta|instagram|wizz|line|viber)"
_KIN = r"(?:mom|mum|mother|dad|father|parents|parent|family|brother|sister|grandma|grandpa)"
_MEDIA = r"(?:picture|pictures|photo|photos|selfie|selfies|video|videos|snap|snaps)"


class English(LanguagePack):
    code = "en"
    name = "English"

    slang: ClassVar[dict[str, str]] = {
        "u": "you", "ya": "you", "yu": "you", "ur": "your", "youre": "you're", "urself": "yourself",
        "r": "are", "ru": "are you", "pic": "picture", "pics": "pictures", "pix": "pictures", "pik": "picture",
        "pls": "please", "plz": "please", "rn": "right now", "wanna": "want to", "gonna": "going to",
        "dont": "don't", "cant": "can't", "wont": "won't", "didnt": "didn't", "doesnt": "doesn't", "isnt": "isn't",
        "im": "i'm", "ill": "i'll", "ive": "i've", "id": "i'd", "whats": "what's", "wheres": "where's",
        "lets": "let's", "thats": "that's", "theres": "there's", "hes": "he's", "shes": "she's",
        "bf": "boyfriend", "gf": "girlfriend", "bday": "birthday", "vid": "video", "vids": "videos",
        "cam": "camera", "ft": "facetime", "sc": "snapchat", "ig": "instagram", "tg": "telegram",
        "wbu": "what about you", "hbu": "how about you", "idk": "i don't know", "tn": "tonight", "2nite": "tonight",
        "tmrw": "tomorrow", "tmr": "tomorrow", "2moro": "tomorrow", "cuz": "because", "bc": "because", "coz": "because",
        "thx": "thanks", "ty": "thanks", "wat": "what", "wut": "what", "y": "why", "ppl": "people", "yr": "year",
        "yrs": "years", "yo": "years old", "mins": "minutes", "hrs": "hours", "hr": "hour", "msgs": "messages",
        "msg": "message", "txt": "text", "addy": "address", "num": "number", "#": "number", "mom's": "mom's",
        "mum": "mom", "mommy": "mom", "daddy": "dad", "parnts": "parents", "prents": "parents", "pareents": "parents",
        "becuz": "because", "gurl": "girl", "luv": "love", "cuz.": "because", "facetime": "facetime", "n": "and",
        "vbucks": "v bucks", "hw": "homework", "hmwk": "homework", "skool": "school", "teh": "the", "selfi": "selfie", "photoes": "photos", "secert": "secret", "scret": "secret",
    }

    tactic_rules: ClassVar[dict[str, list[str]]] = {
        "rapport": [
            r"\bmature for (your|you) age\b", r"\b(so|really|very|way|more) (mature|grown up|special|talented|smart)\b",
            r"\b(nobody|no one) (gets|understands) (me|you)\b", r"\bunderstand(s)? you better\b",
            r"\bmy (favourite|favorite) person\b", r"\b(trust me|here for you|tell (me|you) anything)\b",
            r"\bso much in common\b", r"\bnot like other (kids|girls|boys)\b",
            r"\b(you look|you're|you are) (so |really )?(amazing|beautiful|gorgeous|perfect|pretty|cute|cool)\b",
            r"\bbest part of my day\b", r"\b(don't|do not) appreciate you\b", r"\bonly one who (really )?(listens|cares|understands)\b",
            r"\bmake(s)? my day\b", r"\byou deserve\b", r"\bi (liked|love) (all )?your (posts|videos|pictures)\b",
            r"\bunderstands me\b", r"\bwe'd click\b", r"\bso talented\b", r"\bgo pro\b",
        ],
        "age_probe": [
            r"\bhow old\b", r"\bwhat grade\b", r"\b(middle|high|elementary) school or\b", r"\bwhat year were you born\b",
            r"\bstill in school\b", r"\bare you (like |about )?1\d\b", r"\byou're what 1?\d\b", r"\bwhat are you 1\d\b",
            r"\basl\b", r"\bhow many years (do )?you have\b", r"\blive with (both )?(your )?(mom|dad|parents|both)\b",
            r"\byour own room\b", r"\bold enough to\b", r"\bare you a (freshman|sophomore)\b", r"\bin \d+th or \d+th\b",
            r"\bwhen's your birthday\b", r"\bolder siblings\b", r"\bfirst year of (high|middle) school\b",
            r"\byou in (middle|high) school\b", r"\bstill a kid\b", r"\bhow old will you be\b",
        ],
        "personal_info": [
            r"\b(your|you) (home )?address\b", r"\bwhat school\b", r"\b(name of|which) (your )?school\b",
            r"\b(your|you) (phone )?number\b", r"\bwhat (city|town|street|neighbourhood|neighborhood|state)\b",
            r"\bwhere (exactly )?do you live\b", r"\bwhere you live\b", r"\b(last|real|full) name\b", r"\bbus stop\b",
            r"\bwhat time do you get out of school\b", r"\bwhere do you (usually )?hang out\b",
            r"\b(drop|share|send) (me )?(your )?location\b", r"\bhouse number\b", r"\bpicture of your face\b",
            r"\bso i can find you\b", r"\blook you up\b", r"\bwhich street\b", r"\bwhere do you live exactly\b",
        ],
        "risk_check": [
            rf"\b(are|is) (your )?{_KIN}( still)? (home|around|awake|asleep|there|out)\b",
            rf"\b(are|is) (your )?{_KIN} (still )?(at work|sleeping)\b", r"\bwho else uses your phone\b",
            r"\banyone (watching|looking|home|in the room|else home|around|with you)\b",
            r"\b(check|checks|read|reads|look at|looks at|go through|goes through) your (messages|phone|texts|snap|chats)\b",
            r"\bare you (alone|by yourself|home alone)\b", r"\byou alone\b",
            r"\bwhen do your parents get (back|home)\b", rf"\bwhat time does your {_KIN} get (home|back)\b",
            r"\bcan (your mom|your dad|your parents|anyone) (see|hear|read)\b", r"\bdoor locked\b",
            r"\bknow your password\b", r"\bparental controls\b", r"\bnobody is looking\b", r"\bcan anyone hear you\b",
            r"\bby yourself\b", r"\bnobody('s| is) (home|there)\b",
        ],
        "secrecy": [
            r"\b(don't|do not|never|dont) (tell|show|mention|say anything)( (anyone|anybody|your \w+|my \w+|about \w+|the \w+|these \w+|them))?\b", r"\bour (little )?secret\b",
            r"\b(keep|keeping) (this|it|us)( just)? (between|secret|a secret|private)\b", r"\bbetween (you and me|us)\b",
            r"\b(delete|clear|erase) (our|the|this|my|these) (chat|chats|messages|conversation|number|texts)\b",
            r"\bpromise (me )?(you )?(won't|will not|not to) tell\b", r"\bnobody (needs to|has to|can|should) know\b",
            r"\bhide (the app|this|it|me)\b", r"\bif (anyone|your mom|your dad|your parents|someone) asks?\b",
            r"\b(can't|cannot|must not) find out\b", r"\brename my contact\b", r"\bkeep it secret\b",
            r"\bsecret (from|girlfriend|boyfriend)\b", r"\bdelete (it|this) after\b", r"\berase this\b",
        ],
        "platform_move": [
            r"\b(another|other|different|new|secret|private) (app|account|chat|server|room)\b",
            rf"\b(add|text|message|dm|find|call) me on( {_APPS})?\b", rf"\b(talk|chat|move|continue|go|switch) (on|to|this on) ({_APPS}|another|a private|my private|there)\b",
            rf"\b(download|get|use) {_APPS}\b", r"\bdisappearing messages\b", r"\bvanish mode\b", r"\bprivate server\b",
            r"\bnobody can read\b", r"\bthis (chat|app) (gets|is) (checked|monitored|boring)\b",
            rf"\bwhat's your {_APPS}\b", rf"\bdo you have {_APPS}\b", r"\bmessages (delete|disappear)\b",
            rf"\bon {_APPS} (instead|from now on)\b", r"\bswitch to\b", r"\bmove there\b", r"\bthe app with the timer\b",
        ],
        "sexual_talk": [
            r"\b(ever|you) (had|have) a (boyfriend|girlfriend)\b", r"\bkiss(ing|ed)?\b", r"\bgrown ?up (game|stuff|things|one)\b",
            r"\bcrush on\b", r"\bbeen on a date\b", r"\bmy (special |secret |first )?(girlfriend|boyfriend)\b",
            r"\bbeen in love\b", r"\bdating\b", r"\b(like|likes) older (boys|guys|men|girls)\b",
            r"\bfirst (kiss|boyfriend|girlfriend)\b", r"\bwe're a couple\b", r"\brole ?play\b",
            r"\b(boys|girls) at your school like you\b", r"\bgrown ?up\b",
        ],
        "image_request": [
            rf"\bsend (me )?(a |one |another |more |a new |some )?{_MEDIA}\b", r"\bsend (me )?(a|one) (more|pic)\b",
            r"\bshow me (what you|your|a|how you)\b", r"\b(turn on|turn) (your )?(camera|cam)\b", r"\bon (cam|camera)\b",
            r"\b(facetime|video call|video chat)\b", r"\b(take|snap) (a |me a )?(picture|photo|selfie)\b",
            r"\bcan i see (a )?(photo|picture|you)\b", r"\brecord (a |a little )?video for me\b", r"\bsend more\b",
            r"\bi want to see you\b", r"\b(picture|photo) (for me|of you)\b", r"\bmore photos\b", r"\bsnap me\b",
        ],
        "sends_sexual_content": [
            rf"\b(want|want to) (to )?see (a |my )?(private )?{_MEDIA}\b", rf"\bsend you (a |my |some )?(private )?{_MEDIA}\b",
            r"\bi (just )?sent you (a |something|my)\b", r"\b(my|of me) (private )?(pictures|photos|album|video)\b",
            r"\bof me\b", r"\bshow you mine\b", r"\b(opened|open|see|saw) (my|the) (picture|photo) (i|yet)\b",
            r"\bsomething (grown up|private|only for you)\b", r"\b(video|photo|picture) (just )?for you\b", r"\bspecial photo\b",
            r"\bmy picture\b", r"\bsee the (picture|pic) i sent\b", r"\bsend you something\b", r"\bpictures of me\b",
        ],
        "age_deception": [
            r"\bi'm (only |just )1[0-7]\b", r"\bi'm 1[0-7] too\b", r"\bi'm 1[0-7] (we're|we are) the same\b", r"\bi just turned 1[0-7]\b", r"\bi'm in (\d+th|high school|middle school)\b",
            r"\b(same|too) i'm in\b", r"\bi'm a (freshman|sophomore|teen|teenager|kid)\b", r"\b(teenager|teen|kid) (too|like you)\b",
            r"\bsame age\b", r"\bi'm your age\b", r"\b(same|about) as your age\b", r"\byounger than i look\b", r"\b1[0-7] year old (girl|boy)\b",
            r"\bprofile says \d+ but\b", r"\bi'm not old\b", r"\b(freshman|sophomore) too\b", r"\bi'm 1[0-7] don't worry\b",
        ],
        "incentive": [
            r"\bgift ?card\b", r"\b(robux|v bucks|gems|coins|skins|skin|primogems|battle pass|game pass)\b",
            r"\b(i'll|i will|i can) (buy|get|pay|send you money|give you|take you shopping)\b", r"\bcash ?app\b",
            r"[$€£]\d+", r"\b\d+ dollars\b", r"\bstay at my place\b", r"\bgive you a ride\b", r"\b(vapes?|beer|alcohol|weed)\b",
            r"\bfree (robux|v bucks|gems|coins|skins)\b", r"\b(anything|whatever) you want\b", r"\bairpods\b",
            r"\bnew phone\b", r"\bmy treat\b", r"\bpay (for|your)\b", r"\bbuy you\b", r"\bsend you money\b",
        ],
        "meeting_request": [
            r"\b(let's|we should|want to|can we|when can we) (meet|hang out)\b", r"\bmeet (me|up|at|somewhere)\b",
            r"\bpick you up\b", r"\bcome (and )?(get|pick up) you\b", r"\bcome get you\b", r"\bcome over\b",
            r"\bcome to (my place|your town|your city|your house)\b", r"\bsneak out\b", r"\bdrive (to|over)\b",
            r"\bin (person|real life)\b", r"\bwhere will you be\b", r"\bi('ll| will) (come|be in your|wait for you|take you out)\b",
            r"\bwait for you\b", r"\bjust the two of us\b", r"\bwhich park\b", r"\bbus station\b", r"\blet's meet\b",
            r"\bwant to meet\b",
        ],
        "sextortion_threat": [
            r"\b(unless|otherwise|or else)\b", r"\bor (i|your|everyone|it|the|they)\b.*\b(post|send|share|leak|see|sees|get|gets|tell|goes)\b",
            r"\b(post|leak|expose|share|send) (it|this|them|the (photo|picture|video|pictures)) (to|with|everywhere)\b",
            # a deadline: "you have 2 hours", "in 10 min", "30 mins left", or a bare countdown ending the message
            # ("ok then. 1 hour"); not a price per hour ("$18/hr") or a journey ("we drove 3 hours for this")
            r"\b(?<![$€£])(?:you have|you've got|you got|have|got|in|within|next|give you|giving you) (?:\d+|one|two|a few)"
            r" (?:more )?(?:minutes?|hours?|mins?)\b",
            r"\b(?<![$€£])\d+ (?:minutes?|hours?|mins?)(?: (?:left|remain|remaining|now|to (?:pay|send|decide)))?(?: \d+)?$",
            r"\b\d+ (?:minutes?|hours?|mins?) (?:left|remain|remaining)\b", r"\bclock is ticking\b",
            r"\bi (recorded|screenshotted|saved) (our|your|everything|the)\b", r"\bruin your life\b", r"\byour life is over\b",
            r"\bexpose you\b", r"\bpay (me|now|up)\b", r"\bfollowers list\b", r"\b(everyone|everybody) (will )?(sees?|know)\b",
            r"\bif you block me\b", r"\bgoes public\b", r"\bsend the money\b", r"\bi'm joking\b", r"\bpost it\b",
            r"\bleak it\b", r"\bif you don't pay\b", r"\bit gets posted\b",
        ],
    }

    reported_rules: ClassVar[list[str]] = [
        # a third person's words or acts told by someone else: "he keeps asking me", "this guy said", "some man messaged her"
        r"\b(he|she|they|this (guy|man|person|girl|boy|dude|account|woman|lady)|that (guy|man|person|account|dude)"
        r"|someone|somebody|some (guy|man|person|account|dude|random)|a (guy|man|stranger|person))"
        r"( (just|also|then|now|still|keeps?|kept|has|had|was|is|even))? "
        r"(said|says|saying|asked|asks|asking|told|tells|wants|wanted|threatened|threatens|threatening|messaged|messages"
        r"|dmed|dms|sent|sends|added|offered|offers|keeps|kept|tried|tries|started|been|say|wrote|writes)\b",
        # someone described, then what they did: "the guy from the app who said", "a girl on insta said she's 14",
        # "this account i was talking to said", "someone online has a pic of me and says"
        r"\b(?:this|that|the|a|some) (?:guy|man|person|girl|boy|dude|account|woman|lady|stranger|user|profile)\b"
        r"(?: [\w']+){0,6}? (?:said|says|say|asked|asks|told|wants|wanted|threatened|threatens|messaged|sent|wrote|offered)\b",
        r"\b(?:someone|somebody) (?:online|on \w+|from \w+)(?: [\w']+){0,6}? (?:said|says|say|asked|asks|told|wants|threatened"
        r"|threatens|messaged|sent|wrote|offered)\b",
        r"\b(my|our) (daughter|son|kid|child|niece|nephew|grandson|granddaughter|student|little (sister|brother))"
        r" (told|showed|said|got|has been|was|is getting|received)\b",
        r"\b(i want to|i need to|i'd like to|how do i|can i|i have to|should i) (report|tell (you|someone|my)|block)\b",
        r"\b(screenshots?|screenshotted|reported (him|her|them|it|the account))\b",
    ]
    general_rules: ClassVar[list[str]] = [
        # approaches spoken of in general, as warnings, safety lessons and moderators' rules speak ("if someone asks
        # you", "scammers often", "red flags", "Q3:"); in the training writers' files: 18 % of safety lessons'
        # messages, 4 % of warnings', 1 % of moderators' and disclosures', none of 14,812 enticers' messages
        r"\bif (someone|somebody|a stranger|a person|an adult|anyone online|someone online|somebody online|a grown ?up|an older person)( you (don't|dont) know)?( ever)? (asks?|tells?|says?|offers?|sends?|wants?|threatens?|messages?|makes?|pressures?|dms?)\b",
        r"\b(predators?|groomers?|scammers?|offenders?|strangers?|abusers?|criminals?|catfish(ers)?|extortionists?|blackmailers?)\b( online)? (often|usually|might|may|will|can|could|try|tries|pretend|use|say|ask|want|send|build|target)\b",
        r"\b(someone|somebody|people|a stranger|strangers)(\s+(online|you meet online))? (might|may|could|will often|often|usually|sometimes) (say|ask|tell|offer|pretend|try|send|threaten)\b",
        r"\b(red flags?|warning signs?|signs of grooming|online safety|stay safe online|safety tips?|this is called)\b",
        r"\b(never|don't ever|do not ever) (send|share) (pictures|photos|pics|images) (to|with) (anyone|someone|strangers|people)\b",
        r"^\s*(example|q\d+|quiz|question|scenario|phrases? to (watch|look) (for|out for)|script|roleplay|slide)\b[^:]{0,30}:",
        r"\b(they|people|scammers|predators|these accounts|these guys|the accounts?|bots|a user|an account|users|accounts)( \w+)? (ask|asks|asked|asking|offer|offers|offered|offering|pretend|pretends|demand|demands) (to be|you|kids|children|teens|boys|girls|younger|members|viewers|minors|users)\b",
        r"\bif (you|your (child|kid|son|daughter|teen))( ever)? (get|gets|receive|receives) (a message|messages|a dm|dms|a request|requests|a threat|threats)\b",
    ]
    cue_rules: ClassVar[dict[str, list[str]]] = {
        "sport": [r"\b(coach|practice|team|jersey|tournament|league|rink|kit|shin guards|tryouts|roster|club|game saturday|away game|skate size|squad|junior)\b"],
        "school": [r"\b(homework|worksheet|quiz|class|teacher|essay|chapter|field trip|office hours|extra credit|tutor|classroom|student|students|science fair|permission slip|form|fractions|library|session|yearbook|room \d+)\b"],
        "family": [
            r"\b(grandma|grandpa|granny|nana|uncle|aunt|auntie|cousin|sweetheart|kiddo|birthday card|honor roll|present|dinner at)\b",
            r"\byour (brother|sister)\b", r"\bour (mom|dad|parents|grandma|grandpa|brother|sister|family)\b",
            # mom and dad without "your": said by someone who shares them (a brother, a sister)
            r"\b(tell|ask|is|does|did|when's|where's|call|text|cover for me with) (mom|dad)\b",
            r"\b(best|little|big|baby) (sister|brother|sis|bro)\b",
            # addressing someone by their role ("yes mom", "thanks coach", "hi grandma")
            r"\b(yes|ok|okay|thanks|thank you|bye|hi|hey|love you|love you too|night|morning) (mom|dad|grandma|grandpa|nana|auntie|aunt|uncle|coach|sir|miss|mrs|mr)\b",
        ],
        "trade": [
            r"\b(trade|trades|trading|inventory|middleman|escrow|item|items|deal|stats|scam|scams|2fa|trade window|fair price|account skin)\b",
            r"\b(listing|still available|asking price|price|cash|condition|scratches|couch|sofa|furniture|bike|delivery|drop it off|drop the \w+ off|pick it up)\b",
        ],
        "adult_life": [r"\b(work|office|boss|shift|rent|my car|apartment|divorced|married|wife|husband|my kids|accountant|nurse|drink|brunch|mortgage|driving home|meeting all morning|the office)\b"],
        "transparency": [
            rf"\b(?<!don't )(?<!not )(?<!never )(tell|ask) your {_KIN}\b", rf"\byour {_KIN} (can|are|said|says|is in|will|gave|signed)\b",
            r"\bparents (channel|are in)\b", r"\bgroup chat\b", r"\bwith your parent\b", r"\bparent's permission\b",
            rf"\b{_KIN} (can|to) (join|see|confirm|sign|read)\b", r"\bparents can see\b", r"\bconfirm\b",
        ],
        "minor_life": [
            r"\b(homework|grounded|my mom won't let me|i have school tomorrow|i've got school tomorrow|my teacher|my math teacher|recess|my mom checks|my parents will)\b",
            # hiding something from one's own parents, or living under their rules, is a child's life
            r"\b(don't|do not|never) tell my (mom|dad|parents|mum)\b", r"\bmy (mom|dad|parents) (won't|will not|would kill|will kill|took my|says i have to|made me)\b",
            r"\b(science|school|group|class) project\b", r"\bmy (little |big )?(brother|sister) is so annoying\b",
        ],
        "distress": [r"\b(please don't|please stop|i'm scared|i don't want|stop|begging|delete it|i can't get|will kill me|weird|get in trouble|why do you want)\b"],
        "demand": [
            r"\b(pay|money|gift card|transfer|send more|one more photo|send it to this account)\b",
            # the ways sextortion is paid: card codes, payment apps, crypto wallets ("150 in steam cards", "500 in bitcoin")
            r"\b(gift ?cards?|(steam|apple|itunes|google play|amazon|xbox|psn|visa) (cards?|codes?|gift cards?)|card codes?"
            r"|cash ?app|venmo|paypal|zelle|bitcoin|btc|crypto|wallet address|usdt|western union)\b",
            r"\b\d+ (dollars|bucks|pounds|euros|quid)\b",
            # more material demanded: "one more video", "two more by tonight", "another pic"
            rf"\b(one|two|three|a few|some|\d+) more {_MEDIA}\b", r"\b(one|two|three|\d+) more (by|before|tonight|or)\b",
            rf"\banother {_MEDIA}\b",
            # last, after the patterns that start with a word (\b): a "$" never starts one of them, so the order
            # changes no match, and the words' patterns share one \b test (`LanguagePack`'s regexes, faster)
            r"[$€£]\d+",
        ],
    }

    _AGE = re.compile(
        r"\b(?:i'm|i am)\s+(?:only |just |not old i'm |a )?(\d{1,2})\b(?! (?:minutes|minute|hours|hour|dollars|percent|pm|am|km|miles|feet|min))"
        r"|\bi just turned (\d{1,2})\b|\bturning (\d{1,2})\b|\b(\d{1,2}) (?:what about you|how about you|and you)\b"
        r"|\b(\d{1,2}) years old\b|^(\d{1,2}) you\b|^(\d{1,2}) (?:why|lol)\b"
    )
    _GRADE = re.compile(r"\b(?:i'm in|in|i'm a) (\d{1,2})(?:th|st|nd|rd) grade\b|^(\d{1,2})(?:th|st|nd|rd) grade\b")
    _SCHOOL_YEAR = re.compile(r"\bi'm a (freshman|sophomore|junior|senior)\b")

    _DIGIT = re.compile(r"\d")

    def stated_age(self, normalised: str) -> int | None:
        if self._DIGIT.search(normalised):  # every age and grade pattern holds a number; most messages none
            match = self._AGE.search(normalised)
            if match:
                age = int(next(g for g in match.groups() if g))
                return age if 8 <= age <= 90 else None
            match = self._GRADE.search(normalised)
            if match:
                grade = int(next(g for g in match.groups() if g))
                return grade + 5 if 1 <= grade <= 12 else None
        match = self._SCHOOL_YEAR.search(normalised)
        if match:
            return {"freshman": 14, "sophomore": 15, "junior": 16, "senior": 17}[match.group(1)]
        return None
