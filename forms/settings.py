"""Settings › Partners › Shared deals."""

from wtforms.validators import InputRequired

from catalog import lazy_gettext as _l
from forms.base import Form
from forms.fields import IdSelectField
from services.settings import CHOOSE_PIPELINE


class ReferredPipelineForm(Form):
    pipeline = IdSelectField(
        _l("Referred deals pipeline"),
        validators=[InputRequired(CHOOSE_PIPELINE)],
        message=CHOOSE_PIPELINE,  # the service checks the pipeline is the account's own
        description=_l(
            "New shared deals created by the other party land in this pipeline's "
            "first stage. Existing deals stay where they are."
        ),
    )
