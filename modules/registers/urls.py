from django.urls import path

from modules.registers import payment_views, views, views_licences

app_name = "registers"

urlpatterns = [
    path("", views.index, name="index"),
    path("rooms/<int:pk>/fixtures.pdf", views.room_fixtures_pdf, name="room_fixtures"),
    path("buildings/<int:pk>/fixtures.pdf", views.building_fixtures_pdf,
         name="building_fixtures"),
    path("consumables/", views.consumables_page, name="consumables"),
    path("summary/<int:year>.<str:fmt>", views.year_end_summary_file, name="year_end_summary"),
    path("counts/", views.count_list, name="count_list"),
    path("counts/<int:pk>/", views.count_scan, name="count_scan"),
    path("counts/<int:pk>/differences/", views.count_differences, name="count_differences"),
    path("counts/<int:pk>/report.<str:fmt>", views.count_report_file, name="count_report"),
    # §2 licences, domains and certificates, e-signature cards; §6 reminders
    path("licences/", views_licences.licence_list, name="licences"),
    path("licences/new/", views_licences.licence_edit, name="licence_new"),
    path("licences/<int:pk>/", views_licences.licence_detail, name="licence_detail"),
    path("licences/<int:pk>/edit/", views_licences.licence_edit, name="licence_edit"),
    path("domains/", views_licences.domain_list, name="domains"),
    path("domains/new/", views_licences.domain_edit, name="domain_new"),
    path("domains/<int:pk>/edit/", views_licences.domain_edit, name="domain_edit"),
    path("certificates/new/", views_licences.certificate_edit, name="certificate_new"),
    path("certificates/<int:pk>/edit/", views_licences.certificate_edit,
         name="certificate_edit"),
    path("esign/", views_licences.esign_list, name="esign"),
    path("esign/new/", views_licences.esign_edit, name="esign_new"),
    path("esign/<int:pk>/", views_licences.esign_detail, name="esign_detail"),
    path("esign/<int:pk>/edit/", views_licences.esign_edit, name="esign_edit"),
    path("reminders/", views_licences.reminder_page, name="reminders"),
    path("lines/", payment_views.lines_page, name="lines"),
    path("report/", payment_views.report_index, name="report_index"),
    path("report/<int:year>/", payment_views.report_page, name="report"),
    path("report/<int:year>.<str:fmt>", payment_views.report_file, name="report_file"),
]
