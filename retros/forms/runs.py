"""Forms for deployment runs: starting one, and noting a question, pain or idea during it."""

from collections.abc import Iterable
from typing import Any

from django import forms

from ..models import DeploymentRun, RunEvent, RunStep


class RunStartForm(forms.ModelForm):
    class Meta:
        model = DeploymentRun
        fields = ["environment", "version", "pipeline_id"]
        labels = {"version": "Commit or version", "pipeline_id": "CI pipeline id (optional)"}

    def clean_version(self) -> str:
        return self.cleaned_data["version"].replace("\x00", "").strip()

    def clean_pipeline_id(self) -> str:
        pipeline_id = self.cleaned_data["pipeline_id"].replace("\x00", "").strip()
        running = DeploymentRun.objects.running().filter(pipeline_id=pipeline_id).first()
        if pipeline_id and running:
            raise forms.ValidationError(
                f"Run #{running.pk} is already running for this pipeline: join it instead."
            )
        return pipeline_id


class RunNoteForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(kind.value, kind.label) for kind in RunEvent.NOTE_KINDS], initial="question"
    )
    step = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="On step")
    text = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: Any,
        run: DeploymentRun,
        steps: Iterable[RunStep] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        steps = steps if steps is not None else run.steps.all()
        step = self.fields["step"]
        assert isinstance(step, forms.ChoiceField)
        step.choices = [("", "The run as a whole")] + [
            (step.pk, f"{step.position}. {step.title}") for step in steps
        ]

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].replace("\x00", "").strip()
        if not text:
            raise forms.ValidationError("Write the note first.")
        return text
