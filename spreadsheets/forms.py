from django import forms
from django.utils.translation import gettext_lazy as _

from .reading import WorkbookRefused, check_upload


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Excel workbook (.xlsx, .xls or .csv)"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,.xls,.csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
                "application/vnd.ms-excel,text/csv"
            }
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_upload(upload, name=upload.name)
        except WorkbookRefused as refused:
            raise forms.ValidationError(str(refused)) from refused
        return upload
