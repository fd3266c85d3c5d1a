# expect: Q201 1 @message
@message like /x/
