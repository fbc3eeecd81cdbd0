"""Music and playback: play, pause, skip, volume, output routes."""

from __future__ import annotations

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import PREV, act, intent, show

TEMPLATES = (
    intent(
        "music.play_playlist",
        "Play Playlist",
        slots={"playlist": V.PLAYLIST},
        phrasings=[
            'I: Play my "{playlist}" playlist',
            'Q: Can you put on the playlist "{playlist}"?',
            'C: throw on "{playlist}"',
            'T: play "{playlist}"',
            'D: Starts playing the "{playlist}" playlist in Music.',
        ],
        clauses=['play the "{playlist}" playlist', 'put on "{playlist}"'],
        build=lambda v: (act("playmusic", WFMediaItems=v["playlist"].value),),
    ),
    intent(
        "music.shuffle_playlist",
        "Shuffle Playlist",
        slots={"playlist": V.PLAYLIST},
        phrasings=[
            'I: Shuffle the "{playlist}" playlist',
            'Q: Could you play "{playlist}" on shuffle?',
            'C: "{playlist}" but shuffled',
            'T: shuffle "{playlist}"',
            'P: Please play my "{playlist}" playlist in random order.',
        ],
        clauses=['shuffle "{playlist}"', 'play "{playlist}" on shuffle'],
        build=lambda v: (
            act("playmusic", WFMediaItems=v["playlist"].value, WFPlayMusicActionShuffle="Songs"),
        ),
    ),
    intent(
        "music.pause",
        "Pause Music",
        slots={},
        phrasings=[
            "I: Pause the music",
            "Q: Can you stop whatever is playing?",
            "C: shh, pause it",
            "T: pause",
            "P: Please pause playback.",
        ],
        clauses=["pause the music", "pause playback"],
        build=lambda v: (act("pausemusic", WFPlayPauseBehavior="Pause"),),
    ),
    intent(
        "music.skip",
        "Next Track",
        slots={},
        phrasings=[
            "I: Skip to the next song",
            "Q: Could you skip this track?",
            "C: ugh, next song",
            "T: skip",
            "D: Skips forward to the next track.",
        ],
        clauses=["skip to the next song", "skip this track"],
        build=lambda v: (act("skipforward"),),
        tags=("repeatable",),
    ),
    intent(
        "music.previous",
        "Previous Track",
        slots={},
        phrasings=[
            "I: Go back to the previous song",
            "Q: Can you play the last track again?",
            "C: wait, go back a song",
            "T: previous track",
            "D: Skips back to the previous track.",
        ],
        clauses=["go back a song", "play the previous track"],
        build=lambda v: (act("skipback"),),
        tags=("repeatable",),
    ),
    intent(
        "music.volume",
        "Set Volume",
        slots={"level": V.percent(0, 100)},
        phrasings=[
            "I: Set the volume to {level}",
            "Q: Can you change the volume to {level}?",
            "C: volume {level} pls",
            "T: vol {level}",
            "D: Sets the playback volume to {level}.",
        ],
        clauses=["set the volume to {level}", "turn the volume to {level}"],
        build=lambda v: (act("setvolume", WFVolume=v["level"].value),),
    ),
    intent(
        "music.now_playing",
        "Now Playing",
        slots={},
        phrasings=[
            "I: Show me the song that's playing",
            "Q: What song is this?",
            "C: what's this track called",
            "T: now playing",
            "D: Gets the current song and shows its details.",
        ],
        clauses=["show what song is playing", "tell me the current song"],
        build=lambda v: (act("getcurrentsong"), show("Now playing: ", PREV)),
    ),
    intent(
        "music.route",
        "Play On Speaker",
        slots={"speaker": V.SPEAKER},
        phrasings=[
            'I: Send audio to the "{speaker}"',
            'Q: Can you switch playback to "{speaker}"?',
            'C: play it on "{speaker}" instead',
            'T: output "{speaker}"',
            'D: Sets the playback destination to "{speaker}".',
        ],
        clauses=['switch audio to "{speaker}"', 'play on "{speaker}"'],
        build=lambda v: (
            act("setplaybackdestination", WFMediaRouteOperation="Set", WFMediaRoute=v["speaker"].value),
        ),
    ),
)
