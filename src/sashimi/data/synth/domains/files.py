"""Files: pick, save, rename, zip, open and delete files and folders."""

from __future__ import annotations

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import PREV, act, intent

ARCHIVE = V.pooled(("backup", "photos-export", "project-files", "receipts", "invoices-q1", "archive"))

TEMPLATES = (
    intent(
        "files.share_file",
        "Share File",
        slots={},
        phrasings=[
            "I: Let me pick a file and share it",
            "Q: Can you open the file picker so I can share something?",
            "C: share a file, I'll choose which",
            "T: pick file, share",
            "D: Shows a file picker and opens the share sheet with the chosen file.",
        ],
        clauses=["let me pick a file to share", "share a file I choose"],
        build=lambda v: (act("file.select"), act("share")),
    ),
    intent(
        "files.save_text",
        "Save Text File",
        slots={"text": V.NOTE_TEXT, "file": V.file_name},
        phrasings=[
            "I: Save {text} to a file called {file}",
            "Q: Could you write {text} into {file}?",
            "C: make a file {file} with {text} in it",
            "T: write {text} > {file}",
            "D: Writes the text {text} into the file {file} in iCloud Drive.",
        ],
        clauses=["save {text} as {file}", "write {text} into {file}"],
        build=lambda v: (
            act("gettext", WFTextActionText=v["text"].value),
            act(
                "documentpicker.save",
                WFInput=PREV,
                WFAskWhereToSave=False,
                WFFileDestinationPath=v["file"].value,
            ),
        ),
    ),
    intent(
        "files.create_folder",
        "New Folder",
        slots={"folder": V.folder},
        phrasings=[
            'I: Create a folder "{folder}" in iCloud Drive',
            'Q: Can you make a new folder called "{folder}"?',
            'C: need a "{folder}" folder',
            'T: mkdir "{folder}"',
            'P: Please create the folder "{folder}" in Files.',
        ],
        clauses=['create the folder "{folder}"', 'make a "{folder}" folder'],
        build=lambda v: (act("file.createfolder", WFFilePath=v["folder"].value),),
    ),
    intent(
        "files.rename",
        "Rename File",
        slots={"name": V.file_name},
        phrasings=[
            "I: Let me choose a file and rename it to {name}",
            "Q: Can you rename a file I pick to {name}?",
            "C: rename the file I select as {name}",
            "T: rename picked file -> {name}",
            "D: Asks for a file and renames it {name}.",
        ],
        clauses=["rename a file I pick to {name}", "rename the chosen file {name}"],
        build=lambda v: (act("file.select"), act("file.rename", WFFile=PREV, WFNewFilename=v["name"].value)),
    ),
    intent(
        "files.zip",
        "Zip Files",
        slots={"name": ARCHIVE},
        phrasings=[
            'I: Zip up the files I select into an archive named "{name}"',
            'Q: Could you compress some files I choose into "{name}.zip"?',
            'C: bundle a few files into "{name}" zip',
            'T: zip picked files as "{name}"',
            'D: Lets you select several files, makes a ZIP archive called "{name}" and saves it.',
        ],
        clauses=['zip the files I pick as "{name}"', 'compress my chosen files into "{name}"'],
        build=lambda v: (
            act("file.select", SelectMultiple=True),
            act("makezip", WFInput=PREV, WFZIPName=v["name"].value),
            act("documentpicker.save", WFInput=PREV),
        ),
    ),
    intent(
        "files.open_file",
        "Open File",
        slots={"file": V.file_name},
        phrasings=[
            "I: Open {file} from iCloud Drive and preview it",
            "Q: Can you show me the file {file}?",
            "C: pull up {file}",
            "T: preview {file}",
            "D: Gets the file {file} from iCloud Drive and shows it in Quick Look.",
        ],
        clauses=["open {file}", "preview the file {file}"],
        build=lambda v: (
            act("documentpicker.open", WFGetFilePath=v["file"].value, WFShowFilePicker=False),
            act("previewdocument"),
        ),
    ),
    intent(
        "files.append_log",
        "Append to File",
        slots={"text": V.MESSAGE, "file": V.file_name},
        phrasings=[
            "I: Append {text} to the file {file}",
            "Q: Could you add {text} as a new line in {file}?",
            "C: log {text} into {file}",
            "T: append {text} >> {file}",
            "D: Adds the line {text} to the end of {file}.",
        ],
        clauses=["append {text} to {file}", "add {text} to the file {file}"],
        build=lambda v: (act("file.append", WFFilePath=v["file"].value, WFInput=v["text"].value),),
        tags=("repeatable",),
    ),
    intent(
        "files.delete",
        "Delete Files",
        slots={},
        phrasings=[
            "I: Let me pick files to delete, and ask before deleting",
            "Q: Can you delete some files I choose, with a confirmation?",
            "C: clean up, I'll pick what to trash",
            "T: pick files, delete (confirm)",
            "D: Lets you select files and deletes them after confirmation.",
        ],
        clauses=["delete files I pick", "let me choose files to delete"],
        build=lambda v: (
            act("file.select", SelectMultiple=True),
            act("file.delete", WFInput=PREV, WFDeleteFileConfirmDeletion=True),
        ),
    ),
    intent(
        "files.unzip",
        "Unzip",
        slots={},
        phrasings=[
            "I: Extract a zip file I choose and save its contents",
            "Q: Could you unzip an archive I pick?",
            "C: unzip something for me",
            "T: unzip picked archive",
            "D: Extracts the chosen archive and saves the files it contains.",
        ],
        clauses=["unzip an archive I pick", "extract a zip file"],
        build=lambda v: (
            act("file.select"),
            act("unzip", WFArchive=PREV),
            act("documentpicker.save", WFInput=PREV),
        ),
    ),
    intent(
        "files.make_pdf",
        "Make PDF",
        slots={},
        phrasings=[
            "I: Turn a file I pick into a PDF and save it",
            "Q: Can you convert a document I select to PDF?",
            "C: pdf-ify a file for me",
            "T: file -> pdf",
            "D: Makes a PDF from the chosen file and saves it.",
        ],
        clauses=["turn a file I pick into a PDF", "make a PDF of a document I choose"],
        build=lambda v: (
            act("file.select"),
            act("makepdf", WFInput=PREV),
            act("documentpicker.save", WFInput=PREV),
        ),
    ),
)
