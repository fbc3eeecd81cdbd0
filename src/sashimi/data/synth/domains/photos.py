"""Photos and media: camera, photo library, image edits, screenshots, audio recordings."""

from __future__ import annotations

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import PREV, act, intent, show

FORMATS = V.choice((("JPEG", "JPEG"), ("PNG", "PNG"), ("HEIF", "HEIF"), ("TIFF", "TIFF"), ("GIF", "GIF")))
COMBINE = V.choice(
    (("side by side", "Horizontally"), ("stacked vertically", "Vertically"), ("in a grid", "In a Grid"))
)
ALBUMS = V.pooled(("Receipts", "Favorites", "Family", "Travel", "Whiteboards", "Recipes", "Pets"))

TEMPLATES = (
    intent(
        "photos.take_and_save",
        "Snap Photo",
        slots={},
        phrasings=[
            "I: Take a photo and save it to my library",
            "Q: Can you snap a picture and keep it in Photos?",
            "C: quick pic, save it",
            "T: photo -> library",
            "D: Opens the camera, takes a photo and saves it to the photo library.",
        ],
        clauses=["take a photo and save it", "snap a picture"],
        build=lambda v: (act("takephoto"), act("savetocameraroll", WFInput=PREV)),
        tags=("repeatable",),
    ),
    intent(
        "photos.resize_latest",
        "Resize Latest Photo",
        slots={"width": V.integer(320, 2560, step=32)},
        phrasings=[
            "I: Resize my latest photo to {width} pixels wide and save it",
            "Q: Could you shrink the last photo I took to a width of {width}?",
            "C: make my newest pic {width}px wide",
            "T: resize last photo {width}px",
            "D: Resizes the most recent photo to {width} pixels wide and saves the copy.",
        ],
        clauses=["resize my latest photo to {width} pixels", "shrink the last photo to {width}px wide"],
        build=lambda v: (
            act("getlastphoto"),
            act("image.resize", WFImage=PREV, WFImageResizeWidth=v["width"].value),
            act("savetocameraroll", WFInput=PREV),
        ),
    ),
    intent(
        "photos.convert",
        "Convert Image",
        slots={"fmt": FORMATS},
        phrasings=[
            "I: Convert a photo I pick to {fmt}",
            "Q: Can you turn a picture into a {fmt} file?",
            "C: need one of my photos as {fmt}",
            "T: photo -> {fmt}",
            "D: Lets you choose a photo, converts it to {fmt} and saves it.",
        ],
        clauses=["convert a photo to {fmt}", "turn a picture I choose into {fmt}"],
        build=lambda v: (
            act("selectphoto"),
            act("image.convert", WFInput=PREV, WFImageFormat=v["fmt"].value),
            act("savetocameraroll", WFInput=PREV),
        ),
    ),
    intent(
        "photos.make_gif",
        "Make GIF",
        slots={"count": V.integer(2, 20)},
        phrasings=[
            "I: Make a GIF from my last {count} photos",
            "Q: Could you turn the latest {count} pictures into an animated GIF?",
            "C: gif of my last {count} pics",
            "T: gif last {count} photos",
            "D: Combines the {count} most recent photos into an animated GIF and saves it.",
        ],
        clauses=["make a GIF of my last {count} photos", "turn my latest {count} photos into a GIF"],
        build=lambda v: (
            act("getlastphoto", WFGetLatestPhotoCount=v["count"].value),
            act("makegif", WFInput=PREV),
            act("savetocameraroll", WFInput=PREV),
        ),
    ),
    intent(
        "photos.screenshot_share",
        "Share Screenshot",
        slots={},
        phrasings=[
            "I: Share my latest screenshot",
            "Q: Can you open the share sheet for the last screenshot I took?",
            "C: send that screenshot somewhere, share it",
            "T: share last screenshot",
            "D: Gets the most recent screenshot and shares it.",
        ],
        clauses=["share my latest screenshot", "share the last screenshot"],
        build=lambda v: (act("getlastscreenshot"), act("share", WFInput=PREV)),
    ),
    intent(
        "photos.combine",
        "Combine Photos",
        slots={"mode": COMBINE},
        phrasings=[
            "I: Combine photos I select {mode} and save the result",
            "Q: Can you stitch a few pictures together {mode}?",
            "C: merge some pics {mode}",
            "T: combine photos {mode}",
            "D: Lets you pick several photos, combines them {mode} and saves the image.",
        ],
        clauses=["combine photos I pick {mode}", "stitch some photos together {mode}"],
        build=lambda v: (
            act("selectphoto", WFSelectMultiplePhotos=True),
            act("image.combine", WFInput=PREV, WFImageCombineMode=v["mode"].value),
            act("savetocameraroll", WFInput=PREV),
        ),
    ),
    intent(
        "photos.record_audio",
        "Record Audio",
        slots={},
        phrasings=[
            "I: Record some audio and save the recording to Files",
            "Q: Could you record a voice memo and store it?",
            "C: record me talking and save it",
            "T: record audio, save",
            "D: Records audio from the microphone and saves the file.",
        ],
        clauses=["record audio and save it", "record a voice memo"],
        build=lambda v: (act("recordaudio"), act("documentpicker.save", WFInput=PREV)),
    ),
    intent(
        "photos.rotate",
        "Rotate Photo",
        slots={"deg": V.choice((("90", 90), ("180", 180), ("270", 270), ("-90", -90), ("45", 45)))},
        phrasings=[
            "I: Rotate a photo I pick by {deg} degrees and save it",
            "Q: Could you turn one of my pictures {deg} degrees?",
            "C: my pic is sideways, rotate it {deg} degrees",
            "T: rotate photo {deg}°",
            "D: Rotates the chosen photo by {deg} degrees and saves the result.",
        ],
        clauses=["rotate a photo by {deg} degrees", "turn a picture {deg} degrees"],
        build=lambda v: (
            act("selectphoto"),
            act("image.rotate", WFImage=PREV, WFImageRotateAmount=v["deg"].value),
            act("savetocameraroll", WFInput=PREV),
        ),
    ),
    intent(
        "photos.save_to_album",
        "Photo to Album",
        slots={"album": ALBUMS},
        phrasings=[
            'I: Take a picture and put it in my "{album}" album',
            'Q: Can you snap a photo straight into the "{album}" album?',
            'C: pic for the "{album}" album',
            'T: photo -> "{album}"',
            'D: Takes a photo and saves it into the album "{album}".',
        ],
        clauses=['take a photo for the "{album}" album', 'snap a picture into "{album}"'],
        build=lambda v: (
            act("takephoto"),
            act("savetocameraroll", WFInput=PREV, WFCameraRollSelectedGroup=v["album"].value),
        ),
    ),
    intent(
        "photos.scan_code",
        "Scan Code",
        slots={},
        phrasings=[
            "I: Scan a QR code and show me what it says",
            "Q: Could you read a barcode with the camera?",
            "C: scan this qr thing",
            "T: scan code",
            "D: Scans a QR code or barcode and shows its contents.",
        ],
        clauses=["scan a QR code", "read a barcode"],
        build=lambda v: (act("scanbarcode"), show(PREV)),
    ),
    intent(
        "photos.record_video",
        "Record Video",
        slots={"cam": V.choice((("front", "Front"), ("back", "Back")))},
        phrasings=[
            "I: Record a video with the {cam} camera and save it",
            "Q: Can you film a clip using the {cam} camera?",
            "C: video time, {cam} cam",
            "T: video {cam} cam",
            "D: Records a video with the {cam} camera and saves it to Photos.",
        ],
        clauses=["record a video with the {cam} camera", "film a clip on the {cam} camera"],
        build=lambda v: (
            act("takevideo", WFCameraCaptureDevice=v["cam"].value),
            act("savetocameraroll", WFInput=PREV),
        ),
    ),
)
