"""Create shared deal and share an existing deal: the deal (creation only), the other
party, the product interest, where it goes in your CRM (creation only), and (partner
side) the notes for the vendor or (vendor side) the registration's expiry."""

from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from catalog import lazy_gettext as _l
from forms.base import Form
from forms.fields import AmountField, DateField, IdListField, IdSelectField
from services import shared_deals as rules
from services.product_interest import CHOOSE_PRODUCTS

PARTNER_NOTES = ("intro_note", "pain_or_opportunity", "next_steps")


def _strip(text):
    return text.strip() if isinstance(text, str) else text


def _note(label: str, required: str) -> TextAreaField:
    return TextAreaField(
        label,
        filters=[_strip],
        validators=[
            DataRequired(required),
            Length(max=rules.NOTE_MAX, message=rules.NOTE_TOO_LONG),
        ],
    )


class SharingTermsForm(Form):
    """What sharing asks, either side's fields; `for_side` keeps the ones of one side."""

    partner = IdSelectField(
        _l("Partner"),
        validators=[InputRequired(rules.CHOOSE_PARTNER)],
        message=rules.CHOOSE_PARTNER,
    )
    vendor = IdSelectField(
        _l("Vendor"), validators=[InputRequired(rules.CHOOSE_VENDOR)], message=rules.CHOOSE_VENDOR
    )
    products = IdListField(_l("Product interest"), message=CHOOSE_PRODUCTS)
    intro_note = _note(_l("Intro note"), rules.NOTE_REQUIRED["intro_note"])
    pain_or_opportunity = _note(
        _l("Specific pain/opportunity defined"), rules.NOTE_REQUIRED["pain_or_opportunity"]
    )
    next_steps = _note(_l("Next steps"), rules.NOTE_REQUIRED["next_steps"])
    registration_expires_on = DateField(
        _l("Registration expires on"),
        description=_l("Optional. Leave empty for a registration that does not expire."),
    )

    @classmethod
    def for_side(cls, vendor_side: bool, **kwargs):
        """The form of one side: the vendor picks a partner and an expiry; a partner, the
        vendor and the three notes."""
        form = cls(**kwargs)
        drop = ("vendor", *PARTNER_NOTES) if vendor_side else ("partner", "registration_expires_on")
        for name in drop:
            delattr(form, name)
        return form

    def other_party(self):
        """The select naming the other party: "Partner" for vendor users, else "Vendor"."""
        return self.partner if "partner" in self else self.vendor

    def _terms(self) -> dict:
        def data(name, default=None):
            return self[name].data if name in self else default

        return {
            "other_party_id": self.other_party().data,
            "product_ids": frozenset(self.products.data or ()),
            "intro_note": data("intro_note", ""),
            "pain_or_opportunity": data("pain_or_opportunity", ""),
            "next_steps": data("next_steps", ""),
            "registration_expires_on": data("registration_expires_on"),
        }

    def sharing_terms(self) -> rules.SharingTerms:
        """The typed values, for `services.shared_deals.share`."""
        return rules.SharingTerms(**self._terms())


class SharedDealForm(SharingTermsForm):
    """Create shared deal: the deal itself, where it goes, and the sharing terms."""

    name = StringField(
        _l("Deal name"),
        filters=[_strip],
        validators=[
            DataRequired(rules.ENTER_NAME),
            Length(max=rules.NAME_MAX, message=rules.NAME_TOO_LONG),
        ],
    )
    amount = AmountField(_l("Amount"))
    close_date = DateField(_l("Close date"))
    pipeline = IdSelectField(
        _l("Pipeline"),
        validators=[InputRequired(rules.CHOOSE_PIPELINE)],
        message=rules.CHOOSE_PIPELINE,
    )
    stage = IdSelectField(
        _l("Deal stage"), validators=[InputRequired(rules.CHOOSE_STAGE)], message=rules.CHOOSE_STAGE
    )

    def new_shared_deal(self) -> rules.NewSharedDeal:
        """The typed values, for `services.shared_deals.create`."""
        return rules.NewSharedDeal(
            name=self.name.data,
            amount=self.amount.data,
            close_date=self.close_date.data,
            pipeline_id=self.pipeline.data,
            stage_id=self.stage.data,
            **self._terms(),
        )
