app_name = "dataverse"
urlpatterns = []
