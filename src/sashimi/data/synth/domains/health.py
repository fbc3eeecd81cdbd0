"""Health logging: quantities (caffeine, water, weight, steps, heart rate) and workouts."""

from __future__ import annotations

from sashimi.data.synth import values as V
from sashimi.data.synth.templates import PREV, act, intent, qty, show
from sashimi.dsl.ast import HandleRef

CAFFEINE = V.integer(20, 400, step=5, fmt="{} mg")
WATER = V.quantity((("mL", "ml", 150, 1000, 50), ("fl_oz_us", "oz", 4, 32, 2)))
WEIGHT = V.quantity((("kg", "kg", 45, 130, 1), ("lb", "lbs", 100, 280, 1)))
STEPS = V.integer(500, 25000, step=250)
HEART = V.integer(45, 180)


def _log(kind: str, quantity):
    return (act("health.quantity.log", WFQuantitySampleType=kind, WFQuantitySampleQuantity=quantity),)


TEMPLATES = (
    intent(
        "health.log_caffeine",
        "Log Caffeine",
        slots={"mg": CAFFEINE},
        phrasings=[
            "I: Log {mg} of caffeine in Health",
            "Q: Can you add {mg} of caffeine to my Health data?",
            "C: just had a coffee, put {mg} caffeine in health",
            "T: caffeine {mg}",
            "D: Records {mg} of caffeine as a dietary sample in the Health app.",
        ],
        clauses=["log {mg} of caffeine", "record {mg} of caffeine in Health"],
        build=lambda v: _log("Caffeine", qty(v["mg"].value, "mg")),
        tags=("repeatable",),
    ),
    intent(
        "health.log_water",
        "Log Water",
        slots={"amount": WATER},
        phrasings=[
            "I: Log {amount} of water to Health",
            "Q: Could you track {amount} of water for me?",
            "C: drank {amount} of water, log that",
            "T: water {amount}",
            "P: Please add {amount} of water to my water intake in Health.",
        ],
        clauses=["log {amount} of water", "add {amount} of water to Health"],
        build=lambda v: _log("Water", v["amount"].value),
        tags=("repeatable",),
    ),
    intent(
        "health.log_weight",
        "Log Weight",
        slots={"weight": WEIGHT},
        phrasings=[
            "I: Record my weight as {weight} in Health",
            "Q: Can you save today's weight of {weight}?",
            "C: weighed myself, {weight} this morning, log it",
            "T: weight {weight}",
            "D: Logs a body weight measurement of {weight} to Apple Health.",
        ],
        clauses=["log my weight as {weight}", "record a weight of {weight}"],
        build=lambda v: _log("Weight", v["weight"].value),
    ),
    intent(
        "health.log_steps",
        "Log Steps",
        slots={"steps": STEPS},
        phrasings=[
            "I: Add {steps} steps to Health",
            "Q: Would you log {steps} steps for today?",
            "C: my watch died, I walked about {steps} steps, add them",
            "T: steps: {steps}",
            "P: Please record {steps} steps in the Health app.",
        ],
        clauses=["log {steps} steps", "add {steps} steps to Health"],
        build=lambda v: _log("Steps", qty(v["steps"].value, "count")),
    ),
    intent(
        "health.log_heart_rate",
        "Log Heart Rate",
        slots={"bpm": HEART},
        phrasings=[
            "I: Log a heart rate of {bpm} bpm",
            "Q: Can you save my pulse of {bpm} beats per minute to Health?",
            "C: pulse was {bpm} just now, note it in health",
            "T: heart rate {bpm} bpm",
            "D: Saves a heart rate reading of {bpm} bpm in Health.",
        ],
        clauses=["log a heart rate of {bpm} bpm", "record my pulse as {bpm} bpm"],
        build=lambda v: _log("Heart Rate", qty(v["bpm"].value, "count/min")),
    ),
    intent(
        "health.log_workout",
        "Log Workout",
        slots={"workout": V.WORKOUT, "duration": V.quantity((("min", "minutes", 10, 120, 5),))},
        phrasings=[
            "I: Log {duration} of {workout} as a workout",
            "Q: Can you add a workout to Health: {workout}, {duration}?",
            "C: did {duration} of {workout} today, save it as a workout",
            "T: workout {workout} {duration}",
            "D: Logs a workout of type {workout} lasting {duration} in the Health app.",
        ],
        clauses=[
            "log {duration} of {workout} as a workout",
            "save a workout of {workout} lasting {duration}",
        ],
        build=lambda v: (
            act(
                "health.workout.log",
                WFWorkoutReadableActivityType=v["workout"].value,
                WFWorkoutDuration=v["duration"].value,
            ),
        ),
    ),
    intent(
        "health.ask_caffeine",
        "Caffeine Tracker",
        slots={},
        phrasings=[
            "I: Ask me how much caffeine I had and log it in Health",
            "Q: Could you prompt me for a caffeine amount in milligrams and save it to Health?",
            "C: ask how many mg of caffeine i had then log it",
            "T: prompt caffeine mg, log to health",
            "D: Asks for a number of milligrams of caffeine and records it in Health.",
        ],
        clauses=["ask me how much caffeine I had and log it", "prompt me for caffeine in mg and log it"],
        build=lambda v: (
            act("ask", WFInputType="Number", WFAskActionPrompt="How much caffeine (mg)?"),
            act(
                "health.quantity.log",
                WFQuantitySampleType="Caffeine",
                WFQuantitySampleQuantity=qty(PREV, "mg"),
            ),
            show("Logged ", HandleRef("ask"), " mg of caffeine"),
        ),
    ),
    intent(
        "health.start_workout",
        "Start Workout",
        slots={
            "workout": V.pooled(("Outdoor Run", "Indoor Walk", "Outdoor Cycle", "Pool Swim", "Yoga", "HIIT")),
            "goal": V.quantity(
                (("min", "minutes", 10, 90, 5), ("kcal", "kcal", 100, 800, 50), ("km", "km", 2, 25, 1))
            ),
        },
        phrasings=[
            "I: Start my {workout} workout with a goal of {goal}",
            "Q: Can you begin the {workout} session on my watch, target {goal}?",
            "C: heading out for my {workout}, set the goal to {goal}",
            "T: workout {workout} goal {goal}",
            "D: Starts the {workout} workout with a goal of {goal}.",
        ],
        clauses=[
            "start my {workout} workout aiming for {goal}",
            "begin the {workout} workout with a goal of {goal}",
        ],
        build=lambda v: (act("workout.start", workoutName=v["workout"].value, WorkoutGoal=v["goal"].value),),
    ),
)
