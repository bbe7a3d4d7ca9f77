"""Builds tipline's synthetic labelled enticement corpus (train/dev/test by template family), reproducibly from a seed.

Run from the repository root:  .venv/bin/python data/enticement/generate.py [--seed 2026] [--out data/enticement]

CONTENT RULE: every line here conveys a tactic in plain, non-explicit words. Nothing sexual or
sexually explicit is written, no act or body is described; names, usernames and numbers are invented.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

SEED = 2026
SPLITS = ("train", "dev", "test")

# ------------------------------------------------------------------------------------------------
# Slots filled at random inside phrases

SLOTS = {
    "game": ["Roblox", "Fortnite", "Minecraft", "Valorant", "Apex", "Brawl Stars", "Among Us", "Genshin"],
    "currency": ["Robux", "V-Bucks", "gems", "coins", "skins", "Primogems"],
    "app": ["Snapchat", "Telegram", "Kik", "WhatsApp", "Signal", "Wickr", "Session", "Threema"],
    "amount": ["$25", "$50", "$100", "50 dollars", "$200", "$20", "$75", "500 dollars"],
    "place": ["the mall", "the park", "the movies", "the skate park", "the library", "the gas station", "McDonald's"],
    "dayname": ["Saturday", "Friday", "Sunday", "tomorrow", "tonight"],
    "kid": ["Maya", "Liam", "Zoe", "Ethan", "Ava", "Noah", "Lily", "Jayden", "Emma", "Kai", "Sofia", "Leo", "Mila", "Owen"],
    "adult_last": ["Reyes", "Novak", "Brandt", "Okafor", "Lindqvist", "Patel", "Moreau", "Kowalski", "Haddad", "Ferreira"],
}

# ------------------------------------------------------------------------------------------------
# Tactic phrase pools used by the enticing participant. Each pool is partitioned by index
# (i % 5 in 0..2 -> train, 3 -> dev, 4 -> test) so held-out conversations also use unseen wordings.

TACTIC_PHRASES: dict[str, list[str]] = {
    "rapport": [
        "you're so mature for your age", "honestly you're smarter than most people I know",
        "I feel like I can tell you anything", "nobody gets me like you do",
        "you're really pretty, I bet everyone tells you that", "I understand you better than your friends do",
        "you're my favourite person to talk to", "we have so much in common it's crazy",
        "you're so good at {game}, you could go pro", "your parents don't appreciate you like I do",
        "I love talking to you, you always make my day better", "you're special, not like other kids your age",
        "you can trust me, I'm always here for you", "I saw your posts, you look amazing",
        "you're so grown up, I forget how young you are", "I've never met someone who understands me like this",
        "you're so cool, I wish I had friends like you", "you deserve someone who treats you right",
        "I liked all your videos, you're so talented", "talking to you is the best part of my day",
        "you're way more mature than girls my age", "I'm the only one who really listens to you",
        "you're honestly perfect", "I knew we'd click the second I saw your profile",
    ],
    "age_probe": [
        "how old are you?", "what grade are you in?", "are you in middle school or high school?",
        "so how old are you exactly", "do you live with your mom and dad?", "what year were you born?",
        "are you still in school?", "are you like 13 or 14?", "do you have your own room?",
        "when's your birthday, how old will you be?", "are you old enough to drive yet?",
        "do you live with both your parents or just one?", "you're what, 12?", "asl?",
        "is this your first year of high school?", "how old are you btw, you seem older",
        "are you a freshman?", "do you have older siblings at home?", "what grade did you say you were in?",
        "so you're still a kid huh, what are you, 14?", "how old did you say you were?",
        "are you in 7th or 8th grade?", "how old r u", "you in middle school?",
    ],
    "personal_info": [
        "what's your address?", "what school do you go to?", "what's your phone number? I'll text you",
        "send me a picture of your face so I know you're real", "what city do you live in?",
        "what's your last name? I'll look you up", "which street do you live on?",
        "what's the name of your school?", "where do you live exactly?", "give me your number",
        "what's your real name?", "what town are you in? maybe I'm close",
        "what's your full name?", "which bus stop do you get off at?", "what time do you get out of school?",
        "where do you usually hang out after school?", "drop your location", "what's your house number?",
        "what neighbourhood are you in?", "tell me your school so I can find you",
        "what's your home address, I want to mail you something", "which school, the one on Main Street?",
        "what's your number so I can call you", "share your location with me",
    ],
    "risk_check": [
        "are your parents home?", "who else uses your phone?", "is anyone watching you right now?",
        "do your parents check your messages?", "are you alone right now?", "is your mom still awake?",
        "does anyone go through your phone?", "when do your parents get back from work?",
        "can your mom see what you're typing?", "is your door locked?", "are your parents asleep yet?",
        "do your parents know your password?", "is anyone in the room with you?",
        "what time does your dad get home?", "does your mom look at your snap?",
        "are you by yourself this weekend?", "is your brother still around?",
        "do you have parental controls on that phone?", "make sure nobody is looking at your screen",
        "can anyone hear you right now?", "are your parents around?", "is anyone else home with you?",
        "does your dad read your texts?", "you alone rn?",
    ],
    "secrecy": [
        "don't tell your parents about me", "this is our secret okay?", "delete our chat after you read this",
        "your friends wouldn't understand, keep this between us", "don't tell anyone we talk",
        "if your mom asks, say I'm a friend from school", "make sure you clear the messages",
        "promise me you won't tell anyone", "your parents would just ruin it, so don't say anything",
        "keep this just between you and me", "nobody needs to know about us", "hide the app from your mom",
        "don't show anyone these messages", "if anyone asks, you don't know me",
        "delete my number after", "we'll both get in trouble if you tell, so don't",
        "it's our little secret", "your teachers can't find out about this",
        "rename my contact so your parents don't see", "just don't mention me to your family",
        "don't tell your mom about our chats", "erase this conversation", "keep it secret from your dad",
        "don't say anything to your friends about me",
    ],
    "platform_move": [
        "let's talk on another app", "add me on {app}, it's more private", "do you have {app}? let's move there",
        "switch to {app}, messages disappear there", "turn on disappearing messages",
        "I made a private server just for us", "download {app} so we can chat privately",
        "this app is boring, text me on {app}", "let's go somewhere nobody can read our messages",
        "make a new account so we can talk there", "what's your {app}? this chat gets checked",
        "join my private server, here's the invite", "we should talk on {app} instead", "use vanish mode",
        "message me on {app} from now on", "can you make a secret account?",
        "add me on {app}, my username is in my bio", "let's move to a private chat",
        "use the app with the timer so the messages delete", "I'll send you a link to a private room",
        "get {app}, it's safer for us", "let's continue this on {app}", "come to my private server",
        "download {app} and add me",
    ],
    "sexual_talk": [
        "have you ever had a boyfriend?", "do you like kissing?", "we can play a grown-up game",
        "have you ever kissed anyone?", "do you have a crush on anyone?", "have you ever been on a date?",
        "do boys at your school like you?", "do you want to be my girlfriend?",
        "I could teach you about grown-up stuff", "have you ever been in love?",
        "let's play a game, but it's a grown-up one", "would you kiss me if I was there?",
        "do you think about dating older guys?", "have you ever had a girlfriend?",
        "you can be my special girlfriend", "do your friends talk about kissing?",
        "let's pretend we're a couple", "I want to be your first boyfriend", "do you like older boys?",
        "tell me about your first kiss", "have you ever done grown-up things?", "want to be my secret girlfriend?",
        "ever kissed a boy?", "let's role-play that we're dating",
    ],
    "image_request": [
        "send me a picture of yourself", "show me what you're wearing", "can we video call? turn your camera on",
        "send a selfie", "send me a pic, just one", "can I see a photo of you right now?",
        "send me a pic of your outfit", "turn on your camera", "take a picture in front of the mirror for me",
        "send me a photo of you from today", "let's facetime, just us", "show me a new pic of you",
        "can you send more photos?", "record a little video for me", "send me a picture that only I get to see",
        "I want to see you, send a pic", "show me your face on cam", "send one more picture please",
        "send a picture of you in your room", "get on video chat with me", "send me a pic of you right now",
        "can you take a photo for me?", "show me what you look like today", "snap me a pic",
    ],
    "sends_sexual_content": [
        "want to see a picture of me?", "I'll send you a pic of me first", "I sent you a private photo of me",
        "do you want me to send you a video of me?", "check your snap, I sent you something private",
        "I have pictures of me I only show special people", "I'll show you mine if you show me yours",
        "I just sent you a pic of me, open it", "want to see my private pictures?",
        "I'm sending you a photo of me now", "I recorded a video for you, want it?",
        "look at the picture I just sent", "I can send you pics of me too", "do you want a special photo of me?",
        "I made a video just for you", "opened my pic yet?", "I'll send you something grown-up",
        "I have a picture for you, but it's private", "want me to send you my private album?",
        "I sent you a picture, tell me what you think", "I'll send you a private video",
        "did you see the pic I sent you?", "want a pic of me?", "I sent you something only for you",
    ],
    "age_deception": [
        "I'm 15 too", "I'm only 16 lol", "same, I'm in 9th grade", "I'm 14, we're the same age",
        "I'm a freshman too haha", "don't worry I'm a teenager too", "I'm 17, not much older than you",
        "I just turned 15", "I'm in high school too", "I'm a kid like you lol",
        "my profile says 30 but that's a joke, I'm 16", "I'm the same age as you",
        "I'm 15, my mom won't let me have snap either", "I'm in 10th grade at a different school",
        "I'm younger than I look in my pic", "we're basically the same age", "I'm 16, a sophomore",
        "I'm a 14 year old girl too", "I'm not old, I'm 17", "I'm your age, don't be scared",
        "lol I'm only 15", "I'm in 8th grade too", "I'm just a teen too", "I'm 16 don't worry",
    ],
    "incentive": [
        "I'll buy you a gift card", "I can get you {amount} in {currency}", "want me to send you {currency}?",
        "I'll buy you that skin you wanted", "I can send you {amount} on Cash App", "I'll buy you a new phone",
        "I can get you anything you want", "I'll pay for your game pass", "I'll send you money for new clothes",
        "if you do this I'll give you {amount}", "you can stay at my place if your parents are mean",
        "I'll give you a ride anywhere you want", "I can get you vapes", "I'll buy you food, what do you want?",
        "want free {currency}? I have a lot", "I'll get you the new {game} battle pass",
        "I'll take you shopping", "I can get you beer if you want", "I'll pay your phone bill",
        "I'll send you a gift card right now", "I'll buy you whatever you want", "I'll give you {amount} for it",
        "want some {currency}? I'll send you some", "I can buy you AirPods",
    ],
    "meeting_request": [
        "let's meet up", "I can pick you up from school", "where will you be on {dayname}?",
        "we should meet at {place}", "I'll come to your town this weekend", "can you sneak out tonight?",
        "I can drive to you", "meet me at {place} after school", "when can we hang out in person?",
        "I'll wait for you at the corner by your school", "let's meet, I'll bring the gift",
        "come over to my place", "tell your mom you're at a friend's and meet me",
        "what time are you free {dayname}? I'll come get you", "I'll pick you up at {place}",
        "I want to see you in real life", "which park do you go to? I'll come",
        "I'll be in your city next week, let's meet", "let's meet at the bus station",
        "I'll take you out, just the two of us", "let's meet somewhere quiet", "I can come to your house when nobody's there",
        "want to meet {dayname}?", "I'll drive over and get you",
    ],
    "sextortion_threat": [
        "I'll share that photo with your school unless you pay", "send {amount} or I send your pics to your family",
        "you have 24 hours to pay or everyone sees it", "I recorded our video call, pay or I post it",
        "I have your followers list, I'll send it to all of them", "send more pictures or I tell your parents everything",
        "buy me a {amount} gift card or your friends get the photo", "10 minutes left, pay now",
        "I know your school, I'll send the picture to your teachers", "if you block me I post it everywhere",
        "do what I say or I ruin your life", "I screenshotted everything, your mom will see it",
        "pay me or I make a group chat with all your friends and send it", "you think I'm joking? send the money",
        "one more photo and I'll delete it, otherwise it goes public", "I'll expose you to your whole school",
        "transfer {amount} now or it gets posted", "the clock is ticking, 1 hour left to pay",
        "send it to this account or your dad sees the video", "I'll send this to your church and your coach",
        "pay {amount} or your life is over", "I'll leak it to everyone you know", "if you don't pay I'll send it to your family",
        "30 minutes. pay or I post it",
    ],
}

# Unlabelled lines of the enticing participant: small talk, and slips that show an adult.
P_SMALL = [
    "hey", "hi there", "what are you up to?", "how was school?", "what games do you play?", "lol", "nice",
    "same", "what's your favourite song?", "haha you're funny", "good morning", "goodnight", "what are you doing",
    "cool", "you there?", "hello?", "that's awesome", "wyd", "how's your day", "what music do you like?",
    "I play {game} too", "what's your rank?", "haha yeah", "I'm bored", "tell me about your day",
]
P_ADULT_CUE = [
    "just got off work", "long day at the office", "my car is in the shop", "paid my rent today",
    "my boss is so annoying", "I'm driving home now", "had a meeting all morning", "my apartment is so quiet",
]

# The child's lines (never labelled).
C_LINES = {
    "reply": ["ok", "lol", "haha", "idk", "yeah", "sure", "omg", "thanks", "really?", "i guess", "cool", "hmm",
              "yea", "no way", "wow", "ok lol", "maybe", "why", "what do you mean", "true"],
    "age": ["im {age}", "{age}", "i'm {age} lol", "{age} wbu", "just turned {age}", "im {age} why",
            "I'm {age}", "{age} and u?"],
    "grade": ["im in {grade} grade", "{grade} grade", "{grade} grade lol", "in {grade} grade why"],
    "small": ["just got home from school", "i'm playing {game}", "my mom is so annoying", "i have so much homework",
              "bored", "watching tiktok", "my sister took my charger", "we have a test tomorrow",
              "i hate my math teacher", "my friends are being mean", "i got grounded", "eating dinner",
              "i like taylor swift", "i just finished practice", "my dog is so cute", "i want a new phone"],
    "hesitant": ["i don't know...", "idk if i should", "that's kinda weird", "i'm not sure", "i'll get in trouble",
                 "why do you want that", "i don't really do that", "hmm maybe later"],
    "agree": ["ok i won't tell", "ok", "fine", "sure i guess", "ok i added you", "k", "okay", "ok i deleted it"],
    "refuse": ["no", "i don't want to", "stop", "please stop", "no thanks", "i'm not doing that"],
    "scared": ["please don't", "i don't have money", "i'm scared", "please delete it", "i'll do anything just don't",
               "i'm only {age}", "please i'm begging you", "my parents will kill me", "i can't get that much"],
    "parents": ["my mom is at work", "they're asleep", "my dad gets home at 6", "nobody's home",
                "my parents are downstairs", "my mom checks sometimes", "just me and my little brother"],
    "question": ["how old are you?", "where do you live?", "are you a boy or girl?", "whats ur name",
                 "how old r u", "do you go to my school?"],
    "sends": ["[photo]", "[image]", "[video]", "sent", "there", "[photo] ok"],
}

# ------------------------------------------------------------------------------------------------
# Enticement template families: sequences of (speaker, kind[, probability]). Speaker P is the
# enticing participant, C the child. A kind "a+b" writes one message showing both tactics.


@dataclass(frozen=True)
class Family:
    name: str
    kind: str  # enticement | sextortion | hard_negative | benign
    split: str
    script: tuple = ()
    negative_type: str | None = None
    platforms: tuple[str, ...] = ("Discord", "Instagram", "Snapchat", "Roblox", "TikTok", "Kik")
    styles: tuple[str, ...] = ("plain", "teen", "typo", "emoji")
    p_claims_minor: bool = False


def ent(name, split, script, **kw):
    return Family(name, kw.pop("kind", "enticement"), split, tuple(script), **kw)


ENTICEMENT_FAMILIES = [
    ent("gamer_gift", "train", [("P", "small"), ("C", "small"), ("P", "rapport"), ("C", "reply"), ("P", "age_probe"),
        ("C", "age"), ("P", "incentive"), ("C", "reply"), ("P", "platform_move"), ("C", "agree", .7),
        ("P", "image_request"), ("C", "hesitant"), ("P", "secrecy"), ("C", "reply", .5)],
        platforms=("Roblox", "Fortnite", "Minecraft", "Discord")),
    ent("sextortion_peer_pose", "train", [("P", "small"), ("C", "reply"), ("P", "age_deception"), ("C", "age"),
        ("P", "rapport"), ("C", "reply"), ("P", "image_request"), ("C", "sends"), ("P", "sextortion_threat"),
        ("C", "scared"), ("P", "sextortion_threat"), ("C", "scared", .7), ("P", "sextortion_threat", .8)],
        kind="sextortion", platforms=("Instagram", "Snapchat"), p_claims_minor=True),
    ent("sextortion_fast_money", "test", [("P", "small"), ("C", "reply"), ("P", "image_request"), ("C", "sends"),
        ("P", "sextortion_threat"), ("C", "scared"), ("P", "sextortion_threat"), ("C", "scared", .6), ("P", "sextortion_threat")],
        kind="sextortion", platforms=("Instagram", "Snapchat", "Wizz"), styles=("nonnative", "plain", "typo")),
    ent("mentor_flattery", "train", [("P", "rapport"), ("C", "reply"), ("P", "small"), ("C", "small"), ("P", "age_probe"),
        ("C", "grade"), ("P", "rapport"), ("P", "risk_check"), ("C", "parents"), ("P", "secrecy"), ("C", "agree"),
        ("P", "sexual_talk"), ("C", "hesitant"), ("P", "meeting_request"), ("C", "reply", .6)]),
    ent("meeting_pickup", "dev", [("P", "small"), ("C", "small"), ("P", "rapport"), ("P", "personal_info"), ("C", "reply"),
        ("P", "incentive"), ("C", "reply"), ("P", "meeting_request"), ("C", "hesitant"), ("P", "secrecy"), ("C", "agree", .6)]),
    ent("scout_offer", "train", [("P", "rapport"), ("C", "reply"), ("P", "age_probe"), ("C", "age"), ("P", "image_request"),
        ("C", "hesitant"), ("P", "incentive"), ("C", "reply"), ("P", "platform_move"), ("C", "agree", .6)],
        platforms=("Instagram", "TikTok")),
    ent("boyfriend_roleplay", "test", [("P", "small"), ("C", "reply"), ("P", "rapport"), ("C", "reply"), ("P", "sexual_talk"),
        ("C", "hesitant"), ("P", "sexual_talk", .7), ("P", "secrecy"), ("C", "agree"), ("P", "image_request"), ("C", "hesitant", .7)]),
    ent("night_check", "train", [("P", "small"), ("C", "small"), ("P", "risk_check"), ("C", "parents"), ("P", "sexual_talk"),
        ("C", "reply"), ("P", "image_request"), ("C", "hesitant"), ("P", "platform_move"), ("C", "reply", .6)]),
    ent("reciprocal_pics", "train", [("P", "rapport"), ("C", "reply"), ("P", "age_probe"), ("C", "age"), ("P", "sends_sexual_content"),
        ("C", "hesitant"), ("P", "image_request"), ("C", "refuse", .5), ("P", "secrecy")]),
    ent("runaway_offer", "dev", [("C", "small"), ("P", "rapport"), ("C", "small"), ("P", "rapport", .6), ("P", "incentive"),
        ("C", "reply"), ("P", "meeting_request"), ("C", "hesitant"), ("P", "secrecy"), ("C", "agree", .6)]),
    ent("long_slow_groom", "train", [("P", "small"), ("C", "small"), ("P", "small"), ("C", "reply"), ("P", "rapport"), ("C", "small"),
        ("P", "small"), ("C", "reply"), ("P", "age_probe"), ("C", "age"), ("P", "small"), ("C", "small"), ("P", "personal_info"), ("C", "reply"), ("P", "rapport"),
        ("C", "reply"), ("P", "risk_check"), ("C", "parents"), ("P", "small"), ("C", "reply"), ("P", "secrecy"), ("C", "agree"),
        ("P", "platform_move"), ("C", "reply"), ("P", "sexual_talk"), ("C", "hesitant"), ("P", "image_request"), ("C", "hesitant"),
        ("P", "meeting_request", .6)]),
    ent("fake_teen_meet", "test", [("P", "small"), ("C", "reply"), ("C", "question"), ("P", "age_deception"), ("P", "age_probe"),
        ("C", "age"), ("P", "rapport"), ("P", "adultcue", .6), ("C", "reply"), ("P", "meeting_request"), ("C", "hesitant"),
        ("P", "secrecy"), ("C", "agree", .5)], p_claims_minor=True),
    ent("stream_fan", "train", [("P", "rapport"), ("C", "reply"), ("P", "incentive"), ("C", "reply"), ("P", "platform_move"),
        ("C", "agree"), ("P", "image_request"), ("C", "hesitant"), ("P", "incentive", .6)],
        platforms=("Twitch", "TikTok", "YouTube")),
    ent("recorded_call", "train", [("P", "small"), ("C", "reply"), ("P", "rapport"), ("P", "image_request"), ("C", "sends"),
        ("P", "sextortion_threat"), ("C", "scared"), ("P", "sextortion_threat"), ("C", "scared")], kind="sextortion",
        styles=("nonnative", "plain")),
    ent("info_hunter", "dev", [("P", "small"), ("C", "reply"), ("P", "rapport"), ("P", "personal_info"), ("C", "reply"),
        ("P", "personal_info"), ("C", "hesitant"), ("P", "age_probe"), ("C", "age"), ("P", "image_request"), ("P", "secrecy", .7)]),
    ent("server_invite", "test", [("P", "small"), ("C", "small"), ("P", "platform_move"), ("C", "agree"), ("P", "age_probe"),
        ("C", "age"), ("P", "personal_info"), ("C", "hesitant"), ("P", "secrecy"), ("C", "reply"), ("P", "image_request"), ("C", "hesitant"), ("P", "incentive", .6)],
        platforms=("Discord", "Roblox", "Minecraft")),
    ent("more_images_demand", "dev", [("P", "rapport"), ("C", "reply"), ("P", "image_request"), ("C", "sends"),
        ("P", "sextortion_threat"), ("C", "scared"), ("P", "sextortion_threat"), ("C", "refuse", .6), ("P", "sextortion_threat")],
        kind="sextortion"),
    ent("gift_card_groom", "train", [("P", "small"), ("C", "small"), ("P", "incentive"), ("C", "reply"), ("P", "rapport"),
        ("P", "secrecy"), ("C", "agree"), ("P", "risk_check"), ("C", "parents"), ("P", "image_request"), ("C", "hesitant")]),
    ent("rapid_short", "train", [("P", "age_probe"), ("C", "age"), ("P", "image_request+secrecy"), ("C", "hesitant", .5)]),
    ent("rapid_short_meet", "test", [("P", "age_probe"), ("C", "age"), ("P", "risk_check+meeting_request"), ("C", "hesitant", .6),
        ("P", "secrecy", .5)]),
    ent("concert_trip", "train", [("P", "rapport"), ("C", "small"), ("P", "incentive"), ("C", "reply"), ("P", "personal_info"), ("C", "reply"), ("P", "risk_check"),
        ("C", "parents"), ("P", "meeting_request"), ("C", "reply"), ("P", "secrecy")]),
    ent("tutor_pose", "test", [("P", "small"), ("C", "small"), ("P", "rapport"), ("P", "personal_info"), ("C", "reply"),
        ("P", "risk_check"), ("C", "parents"), ("P", "secrecy"), ("C", "agree"), ("P", "meeting_request")]),
    ent("peer_pose_pics", "train", [("P", "small"), ("C", "question"), ("P", "age_deception"), ("P", "sexual_talk"), ("C", "reply"),
        ("P", "sends_sexual_content"), ("C", "hesitant"), ("P", "image_request"), ("C", "refuse", .5), ("P", "platform_move")],
        p_claims_minor=True),
    ent("age_lie_and_threat", "test", [("P", "age_deception"), ("C", "age"), ("P", "rapport"), ("P", "sends_sexual_content"),
        ("C", "reply"), ("P", "image_request"), ("C", "sends"), ("P", "sextortion_threat"), ("C", "scared"), ("P", "sextortion_threat")],
        kind="sextortion", p_claims_minor=True),
    ent("nonnative_groom", "dev", [("P", "small"), ("C", "reply"), ("P", "rapport"), ("P", "age_probe"), ("C", "age"),
        ("P", "platform_move"), ("C", "reply"), ("P", "incentive"), ("P", "image_request"), ("C", "hesitant")],
        styles=("nonnative",)),
    ent("dating_talk_secret", "train", [("P", "small"), ("C", "small"), ("P", "sexual_talk"), ("C", "reply"), ("P", "sexual_talk"),
        ("C", "hesitant"), ("P", "age_probe"), ("C", "age"), ("P", "secrecy+platform_move")]),
    ent("address_for_gift", "train", [("P", "small"), ("C", "small"), ("P", "rapport"), ("C", "reply"), ("P", "incentive"),
        ("C", "reply"), ("P", "personal_info"), ("C", "hesitant"), ("P", "personal_info", .6), ("P", "secrecy"), ("C", "agree", .7),
        ("P", "age_probe", .6), ("C", "age")]),
    ent("fake_peer_night", "dev", [("P", "small"), ("C", "question"), ("P", "age_deception"), ("C", "age"), ("P", "risk_check"),
        ("C", "parents"), ("P", "sexual_talk"), ("C", "hesitant"), ("P", "sends_sexual_content"), ("C", "reply"),
        ("P", "image_request"), ("C", "refuse", .6)], p_claims_minor=True),
    ent("sends_then_meet", "test", [("P", "rapport"), ("C", "reply"), ("P", "sends_sexual_content"), ("C", "hesitant"),
        ("P", "risk_check"), ("C", "parents"), ("P", "meeting_request"), ("C", "hesitant"), ("P", "incentive")]),
]

# ------------------------------------------------------------------------------------------------
# Hard-negative template families: look-alike signals in a legitimate context. Lines are
# "text |signal,signal" (the signal is what the words resemble; the gold tactic label stays empty).
# A is the first speaker, B the second. Ages: (low, high) for each role, None if never stated.


@dataclass(frozen=True)
class NegativeFamily:
    name: str
    split: str
    negative_type: str
    a_lines: tuple[str, ...]
    b_lines: tuple[str, ...]
    a_age: tuple[int, int]
    b_age: tuple[int, int]
    platforms: tuple[str, ...]
    styles: tuple[str, ...] = ("plain", "teen", "typo", "emoji")
    a_age_lines: tuple[str, ...] = ()
    b_age_lines: tuple[str, ...] = ()
    kind: str = "hard_negative"


NEGATIVE_FAMILIES = [
    NegativeFamily("coach_jersey", "train", "coach", (
        "Hi {kid}, it's Coach {adult_last}. Are your parents home? I want to drop off your jersey |risk_check",
        "Practice moved to 5pm on Thursday, tell your mom", "What's your address again for the carpool list? |personal_info",
        "Great game Saturday, you played really well! |rapport", "I'll pick up the team at the school at 8 for the tournament |meeting_request",
        "Your mom said you can ride with the Garcias", "Bring water and your shin guards",
        "Pizza party after the final, my treat |incentive", "Please make sure your parents read the schedule",
        "Can you send me a photo of the signed medical form? |image_request", "Team photo day is next week, wear the blue kit",
        "Let's keep the team chat on the club app so parents can see it |platform_move"),
        ("ok coach", "my mom is home, she can get it", "thanks coach!", "what time is practice", "my dad will drive me",
         "ok i'll tell my mom", "can my brother come watch", "yes coach"), (30, 55), (11, 14), ("SMS", "TeamSnap", "WhatsApp")),
    NegativeFamily("coach_tournament", "test", "coach", (
        "Hey {kid}, Coach {adult_last} here. Is your mom or dad around? I need to confirm the hotel for the away game |risk_check",
        "Parents are driving, we meet at the rink at 7 |meeting_request", "Awesome effort today, really proud of the whole team |rapport",
        "Can you send a picture of your skate size label so I can order the right ones? |image_request",
        "The club covers everyone's lunch on Sunday |incentive", "Ask your dad to reply to the group email",
        "What's your jersey number again?", "Tell your parents the bus leaves at 6:30", "Send me your mom's number for the emergency list |personal_info"),
        ("ok coach", "my dad said yes", "thank you!!", "size 5", "my mom will email you", "ok see you there", "number 12"),
        (30, 55), (11, 15), ("SMS", "GroupMe", "WhatsApp")),
    NegativeFamily("teacher_homework", "train", "teacher", (
        "Hi {kid}, can you send a picture of your worksheet so I can check it? |image_request",
        "Please ask your parents to sign the field trip form", "You're one of my most thoughtful students |rapport",
        "We'll move the class discussion to the school's Google Classroom |platform_move",
        "Office hours are in room 12 after school on Tuesday |meeting_request", "Remember the quiz is on chapter 4",
        "Don't tell the others the answers, everyone needs to do their own work |secrecy",
        "I'll give the class extra credit for the science fair |incentive", "Your essay was really good this week |rapport"),
        ("ok thank you", "i sent it", "my mom signed it", "is it open book?", "can i come on wednesday instead", "ok"),
        (26, 60), (11, 15), ("School portal", "Remind", "Email")),
    NegativeFamily("tutor_online", "test", "teacher", (
        "Hi, I'm your math tutor from the library program. What grade are you in? |age_probe",
        "Send me a photo of the problem you're stuck on |image_request", "Let's switch to the Zoom link your school sent, your mom can join too |platform_move",
        "You're really getting good at fractions |rapport", "Tell your dad our session moved to 4pm",
        "If you finish the worksheet you get a sticker for the reward chart |incentive", "Is your mom there? I want to tell her how well you did |risk_check",
        "See you at the library on Thursday with your parent |meeting_request"),
        ("7th", "ok", "here's the photo", "my mom is here", "thank you!", "this one is hard", "ok see you thursday"),
        (22, 60), (11, 14), ("Zoom chat", "Tutoring app", "Email"), b_age_lines=("i'm in {grade} grade",)),
    NegativeFamily("grandma_surprise", "train", "relative", (
        "Send Grandma a picture of you in your new costume! |image_request", "Don't tell your mom about the surprise party, it's our secret! |secrecy",
        "I'll pick you up from school on Friday, your dad said it's fine |meeting_request", "I put a gift card in your birthday card |incentive",
        "You're growing up so fast, I'm so proud of you |rapport", "Is your mom home? I called but she didn't answer |risk_check",
        "Grandpa says hi", "How was your spelling test sweetheart?", "Love you lots, see you Sunday for dinner"),
        ("hi grandma!!", "ok i won't tell mom", "thank you grandma", "she's at work", "i got an A", "love you too", "[photo]"),
        (58, 80), (8, 13), ("WhatsApp", "Facebook Messenger", "SMS"), styles=("plain", "emoji")),
    NegativeFamily("uncle_birthday", "test", "relative", (
        "Hey kiddo, it's Uncle {adult_last_first}. Don't tell your sister, I'm getting her the bike |secrecy",
        "I'll send you $20 for your birthday, don't spend it all on candy |incentive", "Send me a pic of the cake! |image_request",
        "Your mom says you made the honor roll, nice work |rapport", "We'll come pick you up for the lake trip Saturday morning |meeting_request",
        "Is your dad home? tell him to call me back |risk_check", "Your aunt says hi"),
        ("thanks uncle!", "i won't tell", "[photo]", "he's in the garage", "yay", "ok"),
        (30, 60), (9, 14), ("SMS", "WhatsApp", "Facebook Messenger")),
    NegativeFamily("peer_crush", "train", "peer", (
        "how old r u |age_probe", "same lol", "do u like anyone |sexual_talk", "have u ever had a bf |sexual_talk", "send a selfie |image_request",
        "add me on snap |platform_move", "ur so funny |rapport", "wanna meet at the mall saturday with everyone |meeting_request",
        "dont tell ur mom we were on the phone till 2 lol |secrecy", "omg did u see what jake posted", "i have math hw ugh"),
        ("14 u?", "lol yea", "maybe hbu", "ok [photo]", "added", "lol ur funnier", "ok with jess too", "i wont lol", "no way"),
        (13, 15), (13, 15), ("Snapchat", "Instagram", "TikTok"), styles=("teen", "typo", "emoji"),
        a_age_lines=("im {age}",), b_age_lines=("{age} u?", "im {age} too |age_deception")),
    NegativeFamily("teen_friends_plans", "test", "peer", (
        "are ur parents home? can i come over |risk_check", "dont tell my mom we went to the skatepark |secrecy",
        "meet at the park at 4 |meeting_request", "send me the pic from the party |image_request", "ill buy u a slushie |incentive",
        "ur the best fr |rapport", "lets make a group chat on discord |platform_move", "did u finish the science project", "my brother is so annoying"),
        ("yea they're at work", "lol i wont", "ok", "[photo]", "omg yes", "ur the best", "bet", "not yet lol"),
        (12, 16), (12, 16), ("Snapchat", "Instagram", "Discord", "iMessage"), styles=("teen", "typo", "emoji"),
        a_age_lines=("im {age} lol",), b_age_lines=("same im {age} |age_deception",)),
    NegativeFamily("gaming_trade", "train", "gaming_trade", (
        "I'll give you a $20 gift card for your dragon pet |incentive", "add me on discord to trade |platform_move",
        "send a screenshot of your inventory |image_request", "trade me your skin for 800 vbucks |incentive", "gg that was a good trade |rapport",
        "do you have 2fa on? never share your password with anyone", "is the neon one still available?", "deal, sending the trade request now"),
        ("ok what's your tag", "deal", "[image]", "it's still available", "sent", "no scams right?", "gg"),
        (14, 30), (13, 30), ("Roblox", "Discord", "Steam", "Reddit"), styles=("teen", "typo", "plain")),
    NegativeFamily("gaming_marketplace", "test", "gaming_trade", (
        "I can pay with a $50 Steam gift card for the account skin |incentive", "send me a pic of the item stats |image_request",
        "let's finish the trade on the official trade window, not DMs |platform_move", "nice stuff man, fair price |rapport",
        "how many hours you got on that save", "I'll send the gift card code once the trade is in escrow", "we can use a middleman from the server"),
        ("ok deal", "[image]", "sure", "like 300 hours lol", "sent it", "cool"),
        (16, 35), (16, 35), ("Steam", "Discord", "Reddit"), styles=("plain", "teen", "typo")),
    NegativeFamily("adult_dating", "train", "adult_flirt", (
        "you're really cute |rapport", "how old are you? I'm {age} |age_probe", "send me a pic from today |image_request",
        "let's move to WhatsApp |platform_move", "want to get a drink Friday after work? |meeting_request", "have you ever been married? |sexual_talk",
        "I'll buy you dinner |incentive", "don't tell my sister I'm on this app haha |secrecy", "what do you do for work?", "I'm an accountant, boring I know"),
        ("haha thanks", "I'm {age}", "[photo]", "sure, here's my number", "Friday works", "divorced, two kids", "sounds good", "I'm a nurse"),
        (24, 45), (24, 45), ("Tinder", "Hinge", "Bumble", "OkCupid"), styles=("plain", "emoji"),
        a_age_lines=("I'm {age}, divorced",), b_age_lines=("{age}, just moved here for work",)),
    NegativeFamily("adult_couple", "test", "adult_flirt", (
        "miss you so much babe |rapport", "send me a selfie, I miss your face |image_request", "don't tell anyone about the surprise trip |secrecy",
        "let's facetime tonight after your shift |image_request", "I'll pick you up at the airport Friday |meeting_request",
        "do you still want to get married next year? |sexual_talk", "I booked us a table for our anniversary |incentive", "my boss kept me late again"),
        ("miss you too", "[photo]", "my lips are sealed", "call at 9?", "can't wait", "of course I do", "ugh your boss"),
        (24, 45), (24, 45), ("WhatsApp", "iMessage", "Telegram"), styles=("plain", "emoji"),
        a_age_lines=("can't believe I'm turning {age}",)),
    NegativeFamily("parent_child", "train", "relative", (
        "where are you? I'll pick you up |meeting_request", "send me a pic of where you are |image_request", "are you home yet? |risk_check",
        "don't tell your brother about his present |secrecy", "I'll give you $10 if you clean your room |incentive",
        "love you, proud of you |rapport", "dinner at 7", "did you finish your homework?", "turn on your location please |personal_info"),
        ("at jess's house", "[photo]", "yeah just got home", "i won't", "deal", "love u too", "yes mom", "ok dad"),
        (35, 55), (10, 16), ("iMessage", "WhatsApp", "SMS"), styles=("plain", "teen", "emoji")),
    NegativeFamily("youth_leader_trip", "test", "coach", (
        "Hi {kid}, are your parents okay with you coming on the camping trip? I need the permission slip |risk_check",
        "We'll pick everyone up at the community center at 8 |meeting_request", "Your parents are in the group chat with the schedule",
        "Great job at the food drive, you're a natural leader |rapport", "Snacks are on us for the bus ride |incentive",
        "Send a photo of the signed form when you can |image_request", "Remember to pack a sleeping bag"),
        ("my mom signed it", "ok", "thanks!", "[photo]", "can my friend come?", "ok see you"),
        (25, 60), (11, 15), ("SMS", "GroupMe", "Email")),
    NegativeFamily("esports_recruit", "dev", "coach", (
        "How old are you? You need a parent's permission to join the junior team |age_probe", "Join our discord for tryouts, parents channel included |platform_move",
        "We cover tournament fees for the junior roster |incentive", "You're really talented at {game} |rapport",
        "Can your mom or dad email me to confirm?", "Tryouts are online, we stream them publicly"),
        ("14", "ok joined", "my dad will email", "thanks!", "cool"), (22, 40), (13, 16), ("Discord", "Email")),
    NegativeFamily("babysitting_job", "dev", "relative", (
        "Hi, your mom gave me your number. Are you free Saturday to babysit? I'll pay $15 an hour |incentive",
        "What's your address, I can pick you up at 6 |personal_info,meeting_request", "The kids go to bed at 8, snacks are in the fridge",
        "How old are you again, 16? |age_probe", "Your mom said it's fine if you're home by 11"),
        ("yes i'm free", "I'm 16", "ok my mom says that's fine", "thank you!"), (30, 45), (15, 17), ("SMS", "WhatsApp")),
    NegativeFamily("marketplace_adults", "dev", "adult_flirt", (
        "Are you home? I can drop the couch off at 6 |risk_check", "send a pic of the scratches |image_request", "what's the address? |personal_info",
        "I can pay cash or with a gift card |incentive", "meet at the gas station instead? |meeting_request"),
        ("yes after 5", "[photo]", "42 Elm Road", "cash please", "works for me"), (25, 60), (25, 60), ("Facebook Marketplace", "Craigslist")),
    NegativeFamily("sibling_cover", "train", "peer", (
        "dont tell mom i broke the vase lol |secrecy", "is mom home? |risk_check", "ill give u my robux if u cover for me |incentive",
        "send a pic of the dog |image_request", "ur the best sister |rapport", "meet me at the bus stop after school |meeting_request"),
        ("lol ok", "no she's at work", "deal", "[photo]", "i know", "ok"), (11, 16), (10, 16), ("iMessage", "WhatsApp"),
        styles=("teen", "emoji", "typo")),
]

BENIGN_FAMILIES = [
    NegativeFamily("homework_help", "train", "benign", (
        "did u do the math hw", "what page was it", "the quiz is tomorrow right?", "i hate fractions", "lol same", "mr. p said chapter 5"),
        ("yea", "page 42", "ya", "same", "lol", "oh ok"), (12, 15), (12, 15), ("Discord", "iMessage"), styles=("teen", "typo", "emoji"),
        kind="benign"),
    NegativeFamily("game_squad", "test", "benign", (
        "get on {game}", "we need one more for squad", "that last game was crazy", "who's playing tonight", "gg"),
        ("ok 5 min", "im on", "lol yes", "me", "gg"), (13, 20), (13, 20), ("Discord", "Xbox", "PlayStation"), styles=("teen", "typo"),
        kind="benign"),
    NegativeFamily("weekend_plans_adults", "dev", "benign", (
        "Are we still on for brunch Sunday?", "I'll bring the kids' bikes", "Traffic is terrible today", "See you at 11"),
        ("Yes!", "Great", "Ugh", "See you"), (28, 60), (28, 60), ("WhatsApp", "SMS"), styles=("plain",), kind="benign"),
    NegativeFamily("club_chat", "train", "benign", (
        "the robotics club meets thursday", "bring your laptop", "we won the regional!!", "mrs. k is ordering shirts"),
        ("cool", "ok", "lets gooo", "nice"), (12, 16), (12, 16), ("Discord", "Slack"), styles=("teen", "plain"), kind="benign"),
]

# How many conversations each family yields.
PER_FAMILY = {"enticement": 13, "sextortion": 13, "hard_negative": 22, "benign": 12}

# ------------------------------------------------------------------------------------------------
# Writing styles


SLANG = [(r"\byou're\b", "ur"), (r"\byou\b", "u"), (r"\byour\b", "ur"), (r"\bare\b", "r"), (r"\bpicture\b", "pic"),
         (r"\bplease\b", "pls"), (r"\breally\b", "rly"), (r"\bokay\b", "ok"), (r"\bbecause\b", "bc"),
         (r"\bright now\b", "rn"), (r"\bI don't know\b", "idk"), (r"\bto be honest\b", "tbh"), (r"\bwhat\b", "wat"),
         (r"\bdon't\b", "dont"), (r"\bI'm\b", "im"), (r"\bthanks\b", "thx"), (r"\btonight\b", "tn")]
EMOJI = ["😂", "😊", "😍", "🥺", "👀", "😅", "🙈", "💕", "🔥", "😭", "😘", "🤔", "❤️", "😏", "🙏"]
TEEN_TAGS = ["lol", "fr", "ngl", "lmao", "haha", "tbh", "omg", "rn"]
NONNATIVE = [(r"\bhow old are you\b", "how many years you have"), (r"\bI am\b", "I"), (r"\bI'm\b", "I am"),
             (r"\bdo you\b", "you"), (r"\bthe\b ", ""), (r"\ba\b ", ""), (r"\bdon't\b", "not"), (r"\bwant to\b", "want"),
             (r"\bwhat's\b", "what is")]


def apply_style(text: str, style: str, rng: random.Random) -> str:
    """Rewrite a line in a writing style without changing what it says."""
    if text.startswith("["):
        return text
    if style in ("teen", "typo", "emoji"):
        for pattern, repl in SLANG:
            if rng.random() < (0.8 if style == "teen" else 0.4):
                text = re.sub(pattern, repl, text, flags=re.IGNORECASE)
        text = text.lower().rstrip(".!")
        if style == "teen" and rng.random() < 0.35:
            text += " " + rng.choice(TEEN_TAGS)
    if style == "typo":
        words = text.split(" ")
        for i, word in enumerate(words):
            if len(word) > 3 and rng.random() < 0.12:
                j = rng.randrange(len(word) - 1)
                op = rng.random()
                if op < 0.4:
                    word = word[:j] + word[j + 1] + word[j] + word[j + 2:]
                elif op < 0.7:
                    word = word[:j] + word[j + 1:]
                else:
                    word = word[:j] + word[j] + word[j:]
                words[i] = word
        text = " ".join(words)
    if style == "nonnative":
        for pattern, repl in NONNATIVE:
            if rng.random() < 0.6:
                text = re.sub(pattern, repl, text, flags=re.IGNORECASE)
        if rng.random() < 0.25:
            text += rng.choice([" dear", " my friend", " ok?", " yes?"])
    if style == "formal" or style == "plain" and rng.random() < 0.5:
        text = text[:1].upper() + text[1:]
    if style in ("emoji", "teen") and rng.random() < (0.5 if style == "emoji" else 0.2):
        text += " " + rng.choice(EMOJI)
    return text


# ------------------------------------------------------------------------------------------------
# Names


SYLLABLES = ["ka", "zo", "mi", "ra", "ven", "lu", "tor", "bex", "sky", "nox", "jin", "dar", "pix", "mo", "ley", "ro", "quin", "tas"]


def username(rng: random.Random) -> str:
    core = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
    return rng.choice(["", "x", "the", "its", "real"]) + core + rng.choice(["", "_", "."]) + str(rng.randint(1, 999))


# ------------------------------------------------------------------------------------------------
# Building conversations


def fill(text: str, rng: random.Random, extra: dict[str, str]) -> str:
    def repl(match: re.Match[str]) -> str:
        key = match.group(1)
        if key in extra:
            return extra[key]
        if key == "adult_last_first":
            return rng.choice(["Dave", "Marco", "Tomas", "Raj", "Ben"])
        return rng.choice(SLOTS[key])

    return re.sub(r"\{(\w+)\}", repl, text)


def split_pool(pool: list[str], split: str) -> list[str]:
    wanted = {"train": (0, 1, 2), "dev": (3,), "test": (4,)}[split]
    return [p for i, p in enumerate(pool) if i % 5 in wanted]


GRADE = {11: "6th", 12: "7th", 13: "8th", 14: "9th", 15: "10th", 16: "11th", 17: "12th"}


class Builder:
    def __init__(self, rng: random.Random, platform: str) -> None:
        self.rng = rng
        self.messages: list[dict] = []
        self.time = datetime(2024, 1, 1, 15, 0) + timedelta(days=rng.randint(0, 600), minutes=rng.randint(0, 600))

    def add(self, author: str, text: str, tactics: list[str], signals: list[str]) -> None:
        self.time += timedelta(seconds=self.rng.randint(5, 900))
        self.messages.append({
            "id": f"m{len(self.messages) + 1}", "author": author, "time": self.time.isoformat() + "Z", "text": text,
            "tactics": tactics, "signals": signals,
        })


def build_enticement(family: Family, index: int, rng: random.Random) -> dict:
    platform = rng.choice(family.platforms)
    style = rng.choice(family.styles)
    child_style = rng.choice(["teen", "typo", "emoji", "plain"])
    p_id, c_id = username(rng), username(rng)
    child_age = rng.randint(11, 15)
    adult_age = rng.randint(22, 58)
    extra = {"age": str(child_age), "grade": GRADE.get(child_age, "8th")}
    b = Builder(rng, platform)
    script = list(family.script)
    # Vary the length: sometimes extra small talk inserted at random places in the script.
    if rng.random() < 0.4:
        for _ in range(rng.randint(1, 6)):
            at = rng.randint(0, len(script))
            script[at:at] = [("P", "small"), ("C", rng.choice(["small", "reply"]))]
    for step in script:
        who, kind = step[0], step[1]
        if len(step) > 2 and rng.random() > step[2]:
            continue
        if who == "P":
            if kind == "small":
                b.add(p_id, apply_style(fill(rng.choice(P_SMALL), rng, extra), style, rng), [], [])
            elif kind == "adultcue":
                b.add(p_id, apply_style(rng.choice(P_ADULT_CUE), style, rng), [], [])
            else:
                tactics = kind.split("+")
                parts = [fill(rng.choice(split_pool(TACTIC_PHRASES[t], family.split)), rng, extra) for t in tactics]
                b.add(p_id, apply_style(" ".join(parts), style, rng), tactics, tactics)
        else:
            b.add(c_id, apply_style(fill(rng.choice(C_LINES[kind]), rng, extra), child_style, rng), [], [])
    participants = [
        {"id": p_id, "display_name": p_id, "claimed_age": (rng.randint(15, 17) if family.p_claims_minor else adult_age) if rng.random() < 0.3 else None},
        {"id": c_id, "display_name": c_id, "claimed_age": rng.choice([child_age, 18, None, None])},
    ]
    return {
        "id": f"{family.split}-{family.name}-{index:03d}", "platform": platform, "participants": participants,
        "messages": b.messages,
        "label": {"enticement": True, "kind": family.kind, "suspect": p_id, "family": family.name, "style": style,
                  "negative_type": None},
    }


def build_negative(family: NegativeFamily, index: int, rng: random.Random) -> dict:
    platform = rng.choice(family.platforms)
    style = rng.choice(family.styles)
    a_id, b_id = username(rng), username(rng)
    a_age, b_age = rng.randint(*family.a_age), rng.randint(*family.b_age)
    kid = rng.choice(SLOTS["kid"])
    b = Builder(rng, platform)

    def parse(line: str, age: int) -> tuple[str, list[str]]:
        text, _, signals = line.partition(" |")
        text = fill(text, rng, {"age": str(age), "grade": GRADE.get(age, "8th"), "kid": kid})
        return text, [s for s in signals.split(",") if s]

    a_lines = list(family.a_lines)
    b_lines = list(family.b_lines)
    rng.shuffle(a_lines)
    turns = rng.randint(3, max(3, len(a_lines)))
    a_first = list(family.a_age_lines)
    b_first = list(family.b_age_lines)
    for turn in range(turns):
        if turn == 1 and a_first and rng.random() < 0.6:
            text, signals = parse(rng.choice(a_first), a_age)
            b.add(a_id, apply_style(text, style, rng), [], signals)
        text, signals = parse(a_lines[turn % len(a_lines)], a_age)
        b.add(a_id, apply_style(text, style, rng), [], signals)
        if turn == 0 and b_first and rng.random() < 0.7:
            text, signals = parse(rng.choice(b_first), b_age)
            b.add(b_id, apply_style(text, style, rng), [], signals)
        elif rng.random() < 0.85:
            text, signals = parse(rng.choice(b_lines), b_age)
            b.add(b_id, apply_style(text, style, rng), [], signals)
    participants = [
        {"id": a_id, "display_name": a_id, "claimed_age": a_age if rng.random() < 0.3 else None},
        {"id": b_id, "display_name": b_id, "claimed_age": b_age if rng.random() < 0.3 else None},
    ]
    return {
        "id": f"{family.split}-{family.name}-{index:03d}", "platform": platform, "participants": participants,
        "messages": b.messages,
        "label": {"enticement": False, "kind": family.kind, "suspect": None, "family": family.name, "style": style,
                  "negative_type": family.negative_type},
    }


def build(seed: int = SEED) -> dict[str, list[dict]]:
    """Every split's conversations, in a fixed order for a given seed."""
    rng = random.Random(seed)
    splits: dict[str, list[dict]] = {s: [] for s in SPLITS}
    for family in ENTICEMENT_FAMILIES:
        for i in range(PER_FAMILY[family.kind]):
            splits[family.split].append(build_enticement(family, i, rng))
    for family in NEGATIVE_FAMILIES + BENIGN_FAMILIES:
        for i in range(PER_FAMILY[family.kind]):
            splits[family.split].append(build_negative(family, i, rng))
    for name in SPLITS:
        random.Random(seed + SPLITS.index(name)).shuffle(splits[name])
    return splits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    splits = build(args.seed)
    for name, conversations in splits.items():
        path = args.out / f"{name}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for conversation in conversations:
                handle.write(json.dumps(conversation, ensure_ascii=False, separators=(",", ":")) + "\n")
        kinds: dict[str, int] = {}
        for c in conversations:
            kinds[c["label"]["kind"]] = kinds.get(c["label"]["kind"], 0) + 1
        print(f"{path}: {len(conversations)} conversations {dict(sorted(kinds.items()))}")


if __name__ == "__main__":
    main()
