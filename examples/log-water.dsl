SHORTCUT "Log Water"
ACTION comment WFCommentActionText="Ask how much water I drank, log it to Health, and confirm."
ACTION ask WFAskActionPrompt="How many fluid ounces of water?" WFInputType="Number"
SET $Ounces = @prev
IF $Ounces is_greater_than 0
ACTION health.quantity.log WFQuantitySampleType="Water" WFQuantitySampleQuantity=QTY($Ounces, "fl_oz_us")
ACTION notification WFNotificationActionBody=`Logged {$Ounces} fl oz of water 💧`
ELSE
ACTION showresult Text="Nothing logged."
ENDIF
