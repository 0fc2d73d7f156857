"""Member-written text composed from fragments: openers, topic sentences, details, closers.

Every sentence is picked with the item's own RNG, so one item's text depends only on
(seed, index). Personal data (names, e-mails, phones, member ids, addresses, staff names) is
planted on purpose and returned with the text, so `ground_truth.json` can list every string a
redactor must catch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

TOPICS = (
    "dues_pricing", "renewal_billing", "event_registration", "event_logistics", "event_content",
    "event_cancellation", "website_login", "website_usability", "communications",
    "member_benefits", "education_certification", "community_forum", "customer_service",
    "advocacy_policy", "publications", "chapter_activities", "career_center", "data_privacy",
)  # fmt: skip

# topic -> (positive, neutral, negative) sentence variants; {slots} are filled per item.
TOPIC_SENTENCES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "dues_pricing": (
        ("The dues are fair for what we get, honestly.", "For {amount} a year the membership pays for itself.", "I appreciate that the student rate stayed affordable."),
        ("Could you tell me what next year's dues will be for my tier?", "Is there a multi-year option on dues?", "I'd like to understand how the dues are calculated."),
        ("The new dues of {amount} are simply too much for someone at my career stage.", "A {pct}% dues increase with no explanation is hard to swallow.", "I am seriously reconsidering my membership because of the price hike.", "Dues keep going up while the benefits stay the same."),
    ),
    "renewal_billing": (
        ("Renewing online took two minutes, nice work.", "The auto-renew reminder came at just the right time.", "Thanks for sorting out my invoice so quickly."),
        ("I need a copy of my renewal invoice for my employer.", "Can I switch my renewal to auto-pay?", "When does my membership actually lapse if I renew late?"),
        ("I was charged twice for my renewal and nobody has refunded me.", "The renewal invoice shows the wrong amount again.", "My card was declined on the renewal page three times and I gave up.", "I renewed in {month} and still got a lapse notice."),
    ),
    "event_registration": (
        ("Registering for {event} was smooth this year.", "Loved the early-bird discount for {event}.", "Group registration for my team worked perfectly."),
        ("Is there a deadline for the member rate for {event}?", "Can I transfer my {event} registration to a colleague?", "Do I need to register separately for the workshops?"),
        ("The registration site for {event} timed out four times.", "I paid for {event} but never received a confirmation.", "Why does registration ask for my address again every single time?"),
    ),
    "event_logistics": (
        ("The venue for {event} was easy to reach and well organised.", "Hotel block rates were great and the shuttle ran on time.", "Check-in at {event} took less than five minutes."),
        ("Which hotel is the official one for {event}?", "Will there be parking at the venue?", "Is lunch included on both days?"),
        ("The venue was overbooked and half the sessions had no seats.", "We were moved to a different hotel at the last minute with no explanation.", "The air conditioning failed and the main hall was unbearable.", "The hotel block sold out in a day and the overflow hotel was miles away."),
    ),
    "event_content": (
        ("The keynote at {event} was the best I have seen in years.", "Sessions were practical and I brought back ideas my team already uses.", "Loved the panel on {course}."),
        ("Will the session slides from {event} be posted?", "Are the recordings available to members who could not attend?", "Who decides which sessions make the program?"),
        ("Too many sessions were sales pitches from sponsors.", "The {course} track was far too basic for experienced practitioners.", "Half the speakers ran over and the Q&A was cut."),
    ),
    "event_cancellation": (
        ("Thanks for the quick refund when the workshop was cancelled.", "The cancellation was handled gracefully and the credit was applied.", "I appreciated the early notice that the session moved online."),
        ("What is the refund policy if I cannot attend {event}?", "Can I get a credit instead of a refund?", "If the workshop is cancelled, is travel reimbursed?"),
        ("The workshop was cancelled two days out and I had already booked flights.", "Still waiting on the refund for the cancelled {event} session.", "Cancelling the regional meeting without telling members is unacceptable."),
    ),
    "website_login": (
        ("The new single sign-on works great.", "Password reset was quick and painless.", "Logging in from my phone finally works."),
        ("How do I change the e-mail address I log in with?", "Is there two-factor authentication available?", "Which username should I use, my e-mail or my member number?"),
        ("I have been locked out of my account for three days.", "The login page keeps looping back to itself.", "Password reset e-mails never arrive.", "I cannot log in to the member portal at all since this morning."),
    ),
    "website_usability": (
        ("The redesigned website is much easier to navigate.", "Finding the member directory is so much simpler now.", "Search on the site actually finds things now."),
        ("Where on the site can I update my profile?", "Is there a mobile app planned?", "How do I download my certificate from the website?"),
        ("The website is impossible to navigate on a phone.", "I clicked through six pages to find the resources I paid for.", "Search returns nothing useful and the menus are confusing."),
    ),
    "communications": (
        ("The weekly newsletter is genuinely useful.", "I like the shorter e-mail format.", "Thanks for keeping us informed about the changes."),
        ("Can I choose which e-mails I receive?", "How do I add a colleague to the newsletter?", "Is the newsletter archived anywhere?"),
        ("I get four e-mails a day from you and most are irrelevant.", "I unsubscribed twice and the e-mails keep coming.", "Important announcements get buried in marketing e-mails."),
    ),
    "member_benefits": (
        ("The insurance discount alone covers my dues.", "The member resource library is excellent.", "Benefits have improved a lot over the last year."),
        ("What discounts are included with my membership?", "Does my membership cover my assistant as well?", "Is the journal subscription included for {tier} members?"),
        ("I can't see what I actually get for my membership anymore.", "The benefits page lists discounts that no longer exist.", "The partner discount code was rejected at checkout."),
    ),
    "education_certification": (
        ("The {course} course was excellent and well paced.", "Passing the certification exam was a highlight of my year.", "CE credits posted to my record right away."),
        ("How many CE credits do I need to recertify?", "When is the next {course} cohort starting?", "Can I take the certification exam online?"),
        ("My CE credits from {event} never showed up on my transcript.", "The {course} module crashes at the quiz every time.", "The certification fee went up again and the study materials are outdated."),
    ),
    "community_forum": (
        ("The community forum is the best part of my membership.", "I got a great answer to my question within an hour.", "Thanks to the moderators for keeping discussions civil."),
        ("How do I change my digest settings on the forum?", "Can I start a discussion group for my specialty?", "Is there a way to follow a single thread?"),
        ("The forum is full of spam lately.", "My post was removed without any explanation.", "Digest e-mails arrive days after the discussion has ended."),
    ),
    "customer_service": (
        ("{staff} in member services was incredibly helpful.", "Someone picked up the phone on the first ring, thank you.", "My question was answered the same day."),
        ("What are member services' phone hours?", "Who should I contact about a change to my record?", "Is there a chat option for quick questions?"),
        ("I have called three times and nobody calls back.", "I waited forty minutes on hold and then got disconnected.", "Nobody seems to know who handles my issue."),
    ),
    "advocacy_policy": (
        ("Proud of the association's testimony on the new regulation.", "The advocacy day was well organised and effective.", "Thanks for standing up for our profession in {state}."),
        ("What is the association's position on the licensing bill?", "How can I get involved in advocacy day?", "Will there be a briefing on the proposed rule?"),
        ("The association has been silent on the licensing bill that affects all of us.", "I disagree strongly with the policy statement released last week.", "Our chapter was never consulted on the advocacy priorities."),
    ),
    "publications": (
        ("The latest journal issue was outstanding.", "I love the new format of the magazine.", "The research digest saves me hours every month."),
        ("Can I get print copies of the journal?", "How do I submit an article to the magazine?", "Is the journal archive searchable?"),
        ("The journal arrived damaged for the third time.", "The magazine is mostly advertising these days.", "I can no longer access the journal archive online."),
    ),
    "chapter_activities": (
        ("The {chapter} chapter meetups are fantastic.", "Our chapter leaders do a great job.", "Loved the networking evening the {chapter} chapter hosted."),
        ("When is the next {chapter} chapter meeting?", "How do I transfer to a different chapter?", "Can I belong to two chapters?"),
        ("The {chapter} chapter has not held an event in months.", "Chapter meetings are always at times working people cannot attend.", "I was moved to the wrong chapter after I changed address."),
    ),
    "career_center": (
        ("I found my current job through the career center.", "The resume review service was worth every minute.", "Job listings are much better this year."),
        ("Are job postings free for members?", "Can I set up alerts for new listings in {state}?", "Is there a mentoring program through the career center?"),
        ("Most job listings in the career center are expired.", "The career center only lists jobs in two cities.", "The resume upload keeps failing."),
    ),
    "data_privacy": (
        ("Thanks for being transparent about how you use our data.", "I appreciate the clear privacy settings on my profile.", "Good to see the directory opt-out respected."),
        ("Who can see my profile in the member directory?", "How do I download the data you hold about me?", "Do you share my details with sponsors?"),
        ("I started getting vendor spam right after {event}; did you sell my details?", "Please remove my home address from the member directory immediately.", "Why is my phone number visible to every member?"),
    ),
}  # fmt: skip

EMAIL_OPENERS = (
    "Hi team,", "Hello,", "Good morning,", "Dear Member Services,", "To whom it may concern,",
    "Hi there,", "Hello again,", "Hi {staff_first},", "Dear colleagues,", "Hey folks,",
)  # fmt: skip
CONTEXT_LINES = (
    "I have been a member since {join_year}.", "I'm writing about my membership.",
    "Quick note after {event}.", "Following up on my earlier message.",
    "{first} here, from the {chapter} chapter.", "My member number is {member_id}.",
    "This is about my account, Member #{member_id}.", "",
)  # fmt: skip
CLOSERS = (
    "Thanks for listening.", "Looking forward to hearing back.", "Appreciate any help.",
    "Please let me know.", "Keep up the good work.", "I hope this gets fixed soon.",
    "Thanks in advance.", "", "",
)  # fmt: skip
SIGNOFFS = ("Best,", "Thanks,", "Regards,", "Cheers,", "Sincerely,", "Kind regards,")
COMMUNITY_OPENERS = (
    "Has anyone else noticed this?", "Quick question for the group:", "Curious what others think.",
    "Sharing in case it helps someone.", "PSA for fellow members:", "",
)  # fmt: skip
STAFF_PREFIXES = (
    "{first} called about {label}.", "Spoke with {first} {last} re: {label}.",
    "Member called ({label}).", "Inbound call from Member #{member_id} about {label}.",
    "{first} stopped by the booth; topic: {label}.", "Voicemail from {first}, {label}.",
)  # fmt: skip
STAFF_SUFFIXES = (
    "Told them we would follow up by Friday.", "Escalated to {staff}.", "No action needed.",
    "Callback number: {phone}.", "Sent the link by e-mail to {email}.",
    "Logged by {staff}.", "", "",
)  # fmt: skip
DETAILS = (
    ("phone", "You can reach me at {phone}."),
    ("phone", "Best number is {phone} after 5pm."),
    ("email", "Please reply to {email} rather than my work address."),
    ("email", "My new e-mail is {email}."),
    ("address", "I moved recently; my new address is {address}."),
    ("staff", "I already spoke with {staff} about this."),
    ("colleague", "My colleague {colleague} had the same problem."),
    ("member_id", "For reference, my member ID is {member_id}."),
    ("member_id", "Account: Member #{member_id}."),
)  # fmt: skip
FOREIGN = (
    "La cuota anual es demasiado alta para los estudiantes.",
    "Merci pour la conférence, c'était très bien organisé.",
    "No puedo iniciar sesión en el portal desde ayer.",
    "Le site web est difficile à utiliser sur mobile.",
)
PHONE_FORMATS = ("({a}) {b}-{c}", "{a}-{b}-{c}", "{a}.{b}.{c}", "+1 {a} {b} {c}", "1-{a}-{b}-{c}")
STAFF = (
    "Maria Lopez", "Kevin Brooks", "Priya Natarajan", "Tom Whitfield", "Aisha Bello",
    "Greg Hanson", "Lena Fischer", "Sam Ortiz",
)  # fmt: skip
EVENTS = ("Annual Conference", "Leadership Summit", "Spring Webinar Series", "Regional Workshop")
COURSES = (
    "Ethics Essentials",
    "Advanced Practice",
    "Data Literacy",
    "Leadership 101",
    "Grant Writing",
)
MONTHS = ("January", "February", "March", "October", "November", "December")


@dataclass(frozen=True)
class Person:
    member_id: str
    first: str
    last: str
    email: str
    phone: str
    address: str
    chapter: str
    tier: str
    join_year: int
    state: str


@dataclass
class Composed:
    text: str
    pii: list[tuple[str, str]] = field(default_factory=list)  # (kind, exact string in text)
    subject: str = ""


def random_phone(rng: random.Random) -> str:
    a, b, c = rng.randint(201, 989), rng.randint(200, 999), rng.randint(1000, 9999)
    return rng.choice(PHONE_FORMATS).format(a=a, b=b, c=c)


class _Writer:
    """Fills slots and records each personal-data string as it is written."""

    def __init__(self, rng: random.Random, person: Person, colleague: Person):
        self.rng = rng
        self.person = person
        self.pii: list[tuple[str, str]] = []
        self.staff = rng.choice(STAFF)
        self.phone = person.phone if rng.random() < 0.6 else random_phone(rng)
        self.values = {
            "first": person.first, "last": person.last, "member_id": person.member_id,
            "email": person.email, "phone": self.phone, "address": person.address,
            "chapter": person.chapter, "tier": person.tier, "state": person.state,
            "join_year": str(person.join_year), "staff": self.staff,
            "staff_first": self.staff.split()[0], "colleague": f"{colleague.first} {colleague.last}",
            "event": rng.choice(EVENTS), "course": rng.choice(COURSES), "month": rng.choice(MONTHS),
            "amount": f"${rng.choice((195, 245, 310, 365, 420, 495))}",
            "pct": str(rng.choice((12, 15, 18, 22, 25))),
        }  # fmt: skip
        self._kinds = {
            "first": "first_name", "last": "last_name", "member_id": "member_id",
            "email": "email", "phone": "phone", "address": "address", "staff": "staff_name",
            "staff_first": "staff_name", "colleague": "person_name",
        }  # fmt: skip

    def fill(self, template: str) -> str:
        for slot, kind in self._kinds.items():
            if "{" + slot + "}" in template:
                self.pii.append((kind, self.values[slot]))
        return template.format(**self.values)


def topic_sentence(rng: random.Random, topic: str, sentiment: str) -> str:
    variants = TOPIC_SENTENCES[topic][("positive", "neutral", "negative").index(sentiment)]
    return rng.choice(variants)


def compose(
    rng: random.Random,
    style: str,
    topics: list[str],
    sentiment: str,
    person: Person,
    colleague: Person,
) -> Composed:
    """Compose one item. `style`: email | survey | community | call | note | case."""
    w = _Writer(rng, person, colleague)
    body = [w.fill(topic_sentence(rng, t, sentiment if i == 0 else rng.choice(("neutral", sentiment))))
            for i, t in enumerate(topics)]  # fmt: skip
    if rng.random() < 0.35:
        _, template = rng.choice(DETAILS)
        body.append(w.fill(template))
    if rng.random() < 0.02:
        body.append(rng.choice(FOREIGN))
    label = topics[0].replace("_", " ")
    subject = label.capitalize() if rng.random() < 0.5 else body[0][:80]

    if style in ("call", "note", "case"):
        head = w.fill(rng.choice(STAFF_PREFIXES).replace("{label}", label))
        quoted = " ".join(body)
        said = f'Said: "{quoted}"' if rng.random() < 0.5 else quoted
        tail = w.fill(rng.choice(STAFF_SUFFIXES))
        text = " ".join(p for p in (head, said, tail) if p)
    elif style == "survey":
        text = " ".join(body[: rng.randint(1, len(body))])
    else:
        opener = rng.choice(EMAIL_OPENERS if style == "email" else COMMUNITY_OPENERS)
        context = rng.choice(CONTEXT_LINES)
        closer = rng.choice(CLOSERS)
        paragraphs = [w.fill(opener), w.fill(context), " ".join(body), closer]
        if style == "email" or rng.random() < 0.4:
            name = person.first if rng.random() < 0.45 else f"{person.first} {person.last}"
            w.pii.append(("first_name" if " " not in name else "person_name", name))
            paragraphs.append(f"{rng.choice(SIGNOFFS)}\n{name}")
        text = "\n\n".join(p for p in paragraphs if p)
    # Only what survived into the text (a survey answer keeps just its first sentences).
    return Composed(text=text, pii=_dedupe([p for p in w.pii if p[1] in text]), subject=subject)


def email_html(
    rng: random.Random, composed: Composed, person: Person
) -> tuple[str, list[tuple[str, str]]]:
    """Wrap a composed e-mail in HTML with a signature block and, often, quoted history."""
    pii = list(composed.pii)
    paras = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in composed.text.split("\n\n"))
    signature = ""
    if rng.random() < 0.6:
        sig_phone = random_phone(rng)
        pii += [
            ("person_name", f"{person.first} {person.last}"),
            ("phone", sig_phone),
            ("email", person.email),
        ]
        signature = (
            f'<div class="signature">-- <br>{person.first} {person.last}<br>'
            f"{person.chapter} chapter member<br>Tel: {sig_phone}<br>{person.email}</div>"
        )
    quoted = ""
    if rng.random() < 0.55:
        staff = rng.choice(STAFF)
        pii.append(("staff_name", staff))
        previous = "Thank you for contacting Member Services. We have received your request and will respond within two business days."
        if rng.random() < 0.5:
            quoted = (
                f'<div class="gmail_quote">On Mon, {rng.randint(1, 28)} {rng.choice(MONTHS)} at 9:{rng.randint(10, 59)} AM '
                f"{staff} &lt;memberservices@association.example&gt; wrote:<br>"
                f"<blockquote>{previous}<br><br>{staff}<br>Member Services</blockquote></div>"
            )
        else:
            quoted = (
                f"<hr><p><b>From:</b> {staff} &lt;memberservices@association.example&gt;<br>"
                f"<b>Sent:</b> Tuesday, {rng.choice(MONTHS)} {rng.randint(1, 28)}, 10:02 AM<br>"
                f"<b>To:</b> {person.first} {person.last}<br><b>Subject:</b> RE: your request</p>"
                f"<p>{previous}</p><p>{staff}<br>Member Services</p>"
            )
    html = (
        '<html><head><style>p {margin:0}</style></head><body style="font-family:Calibri">'
        f"{paras}{signature}{quoted}</body></html>"
    )
    return html, _dedupe(pii)


def _dedupe(pii: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(p for p in pii if p[1]))
