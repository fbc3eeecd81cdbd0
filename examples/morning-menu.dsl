SHORTCUT "Morning"
ACTION comment WFCommentActionText="Let me pick my morning routine: focus music or the news."
MENU "Good morning! What first?"
CASE "Focus"
ACTION dnd.set Enabled=true
ACTION playmusic
CASE "News"
ACTION url WFURLActionURL="https://news.example.com"
ACTION openurl
ENDMENU
ACTION date WFDateActionMode="Current Date"
ACTION format.date WFDateFormatStyle="Short" WFDate=`{@prev}`
ACTION speaktext WFText=`It is {@prev}.`
